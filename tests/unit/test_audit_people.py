"""Whose data a read shows, found in the view's result led by the response schema
(:func:`people_of`), against the same found in the JSON as sent (:func:`people_in`).

The access log's entry on PostgreSQL is sent from the result before the answer is dumped, so the
two must agree for every result a view could return; where the result cannot tell,
``people_of`` says so (None) and the entry is made from the answer sent instead.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump

from shared.audit.people import people_in, people_of, plan_of
from shared.web.validation import PlausibleDate

PEOPLE = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(4)]
TEXTS = [
    *PEOPLE,
    PEOPLE[0].upper(),
    PEOPLE[1].replace("-", ""),
    "not a person",
    "f" * 40,  # a run longer than a UUID
    f"id:{PEOPLE[2]}",  # a UUID inside other text
    f"é{'a' * 32}",  # JSON spells é as \u00e9: its hex digits join the run
    f"x]{PEOPLE[3]}",  # a bracket ends a list of ids in the JSON scan
    "",
]
KEYS = ["person_id", "manager_person_id", "participant_id", "person_ids", "id", "note", "b"]

leaves = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(PEOPLE).map(uuid.UUID),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
anything = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=12,
)
scalars = st.one_of(st.sampled_from(TEXTS), st.sampled_from(PEOPLE).map(uuid.UUID), st.none())
flat = st.lists(st.one_of(scalars, st.integers(), st.booleans()), max_size=4)


class Inner(Schema):
    person_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    id = fields.String(allow_none=True)
    day = PlausibleDate(allow_none=True)  # reads its own way, dumps as a Date


class Outer(Schema):
    boss = fields.String(data_key="boss_person_id", allow_none=True)
    participant_id = fields.UUID(allow_none=True)
    person_ids = fields.List(fields.String(allow_none=True), allow_none=True)
    rows = fields.List(fields.Nested(Inner), allow_none=True)
    one = fields.Nested(Inner, allow_none=True)
    many = fields.Nested(Inner, many=True, allow_none=True)
    extra = fields.Raw(allow_none=True)
    grid = fields.List(fields.List(fields.Nested(Inner)), allow_none=True)
    count = fields.Integer(allow_none=True)


def inner(lists: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "person_id": scalars.map(lambda v: None if v is None else str(v)),
            "note": scalars.map(lambda v: None if v is None else str(v)),
            "details": st.dictionaries(st.sampled_from(KEYS), lists),
            "id": scalars.map(lambda v: None if v is None else str(v)),
            "undeclared_person_id": st.sampled_from(PEOPLE),  # never dumped
        },
    )


def outer(lists: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    one = inner(lists)
    return st.fixed_dictionaries(
        {},
        optional={
            "boss": scalars.map(lambda v: None if v is None else str(v)),
            "participant_id": st.sampled_from(PEOPLE).map(uuid.UUID),
            "person_ids": st.lists(scalars.map(lambda v: None if v is None else str(v))),
            "rows": st.lists(one, max_size=3),
            "one": one,
            "many": st.lists(one, max_size=3),
            "extra": lists,
            "grid": st.lists(st.lists(one, max_size=2), max_size=2),
            "count": st.integers(),
            "hidden": st.just({"person_id": PEOPLE[3]}),  # never dumped
        },
    )


APP = Flask(__name__)


def sent(schema: Schema, result: Any) -> bytes:
    """The answer as flask-smorest sends it: dumped, then Flask's JSON (sorted keys, ASCII)."""
    return APP.json.dumps(schema.dump(result)).encode()


def agree(schema: Schema, result: Any, ids: bool) -> set[str] | None:
    found = people_of(result, schema, ids)
    if found is not None:
        assert found == set(people_in(sent(schema, result), ids))
    return found


@settings(max_examples=400, deadline=None)
@given(outer(anything), st.booleans())
def test_the_result_names_the_people_the_answer_names(result: dict[str, Any], ids: bool) -> None:
    agree(Outer(), result, ids)


@settings(max_examples=300, deadline=None)
@given(outer(flat | st.dictionaries(st.sampled_from(KEYS), scalars)), st.booleans())
def test_a_result_of_plain_values_is_always_foreseen(result: dict[str, Any], ids: bool) -> None:
    assert agree(Outer(), result, ids) is not None


@settings(max_examples=200, deadline=None)
@given(st.lists(inner(flat), max_size=4), st.booleans())
def test_a_list_answer_is_read_item_by_item(result: list[dict[str, Any]], ids: bool) -> None:
    assert agree(Inner(many=True), result, ids) is not None


@given(anything, st.booleans())
def test_without_a_schema_the_whole_result_is_searched(result: Any, ids: bool) -> None:
    found = people_of(result, None, ids)
    if found is not None:
        assert found == set(people_in(APP.json.dumps(result).encode(), ids))


def test_what_a_schema_does_not_dump_is_not_read() -> None:
    result = {"boss": PEOPLE[0], "hidden_person_id": PEOPLE[1], "count": 3}
    assert people_of(result, Outer(), False) == {PEOPLE[0]}  # the key it is dumped as counts
    assert people_of({"count": 1}, Outer(), False) == set()


def test_schemas_that_dump_their_own_way_are_not_foreseen() -> None:
    class Hooked(Schema):
        note = fields.String()

        @post_dump
        def add(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {**data, "person_id": PEOPLE[0]}

    class Computed(Schema):
        person_id = fields.Method("who")

        def who(self, obj: Any) -> str:
            return PEOPLE[0]

    class Own(fields.String):
        def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
            return {"person_id": PEOPLE[1]}

    class Custom(Schema):
        note = Own()

    for schema in (
        Hooked(),
        Computed(),
        Custom(),
        Schema.from_dict({"x": fields.Pluck(Inner, "id")})(),
    ):
        assert plan_of(schema, False) is None
        assert people_of({"note": "x"}, schema, False) is None
    assert people_of({"one": object()}, Outer(), False) is None  # an object, not a dict
    assert people_of({"person_ids": [[PEOPLE[0]]]}, Outer(), False) is None
    # marshmallow dumps a dict's own attribute for a key it lacks (``items``: the method)
    listing = Schema.from_dict({"items": fields.List(fields.Nested(Inner))})()
    assert people_of({}, listing, False) is None
    assert people_of({"items": [{"person_id": PEOPLE[0]}]}, listing, False) == {PEOPLE[0]}


def test_the_plan_reads_only_what_can_name_people() -> None:
    plan = plan_of(Outer(), False)
    assert plan is not None
    assert {step.key for step in plan} == {
        "boss", "participant_id", "person_ids", "rows", "one", "many", "extra", "grid"
    }  # fmt: skip
