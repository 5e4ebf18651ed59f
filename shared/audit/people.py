"""Whose data a read shows: the person ids in an answer, from its JSON or from the view's result.

Both forms find the same people: the values of keys ending in ``person_id`` or
``participant_id``, the items of keys ending in ``person_ids`` and, for the people lists, the
values of ``id``; a value counts when it has the shape of a UUID.

- :func:`people_in` reads the JSON as sent (one regular-expression pass over the bytes).
- :func:`people_of` reads the view's result before it is dumped, led by the response schema:
  only the fields the schema dumps are looked at, under the names it dumps them as, and only
  the fields that can hold a person id at all. For a pilot timeline that is the person and each
  entry's ``details``, not the other 300 values. A field whose content the schema does not
  describe (``Dict``, ``Raw``) is searched whole. A result that is not made of dicts, lists
  and tuples, or a field kind the plan does not know, gives None: the people are then taken
  from the answer as sent, not from the result.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple
from uuid import UUID

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP

PERSON_KEYS = ("person_id", "participant_id")
LIST_KEY = "person_ids"

_UUID_VALUE = rb'"\s*:\s*"([0-9a-fA-F-]{32,36})"'
# One pass over the answer for the three kinds of key that name people: ``person_id`` (and any
# ``*_person_id``), ``participant_id`` and the lists ``person_ids``. The pattern starts with a
# literal, which the regular-expression engine looks for first.
_PEOPLE = re.compile(
    rb"p(?:erson_id"
    + _UUID_VALUE
    + rb"|articipant_id"
    + _UUID_VALUE
    + rb'|erson_ids"\s*:\s*\[([^\]]*)\])'
)
_ID = re.compile(rb'"id' + _UUID_VALUE)
_UUID = re.compile(rb"[0-9a-fA-F-]{32,36}")
_UUID_TEXT = re.compile(r"[0-9a-fA-F-]{32,36}")


def people_in(body: bytes, ids_are_people: bool) -> list[str]:
    """The person ids a JSON answer names, in first-seen order."""
    hits: list[tuple[int, bytes]] = []
    for match in _PEOPLE.finditer(body):
        one = match.group(1) or match.group(2)
        if one:
            hits.append((match.start(), one))
        else:  # a list of person ids
            start = match.start(3)
            hits += [(start + uuid.start(), uuid.group(0)) for uuid in _UUID.finditer(match[3])]
    if ids_are_people:
        hits += [(match.start(), match.group(1)) for match in _ID.finditer(body)]
    found: dict[str, None] = {}
    for _, person in sorted(hits):
        found.setdefault(person.decode().lower(), None)
    return list(found)


# The plan ---------------------------------------------------------------------------------

ONE, MANY, NESTED, EACH, ANY = range(5)
"""A step's kinds: a person id; a list of them; a nested object (or list of them, by its
plan); a list whose items each take the step's ``inner``; anything (searched whole)."""


class Step(NamedTuple):
    key: str
    """Where the value is in the result (the field's attribute)."""
    kind: int
    plan: tuple[Step, ...] = ()
    many: bool = False
    inner: Step | None = None


class Unplanned(Exception):
    """A field kind whose dumped content the plan cannot foresee."""


_SCALARS = (
    fields.String,
    fields.Integer,
    fields.Float,
    fields.Decimal,
    fields.Boolean,
    fields.UUID,
    fields.Date,
    fields.DateTime,
    fields.Time,
    fields.TimeDelta,
    fields.Enum,
)
_ANYTHING = (fields.Dict, fields.Raw)


def _kind_of(field: fields.Field, kinds: tuple[type[fields.Field], ...]) -> bool:
    """Whether ``field`` is one of ``kinds`` and dumps as it does: a subclass that only reads
    or validates differently (``PlausibleDate``) is; one that dumps differently is not."""
    for kind in kinds:
        if isinstance(field, kind):
            own = type(field)
            return own._serialize is kind._serialize and own.serialize is fields.Field.serialize
    return False


_plans: dict[tuple[int, bool], tuple[Schema, tuple[Step, ...] | None]] = {}


def plan_of(schema: Schema, ids_are_people: bool) -> tuple[Step, ...] | None:
    """The steps that find the people in what ``schema`` dumps (cached per schema); None when
    the schema has a field the plan cannot foresee."""
    key = (id(schema), ids_are_people)
    cached = _plans.get(key)
    if cached is None or cached[0] is not schema:
        try:
            steps: tuple[Step, ...] | None = _plan(schema, ids_are_people)
        except Unplanned:
            steps = None
        cached = _plans[key] = (schema, steps)
    return cached[1]


MAX_DEPTH = 16
"""Nested schemas deeper than this (a schema nesting itself) are not planned."""


def _plan(schema: Schema, ids: bool, depth: int = 0) -> tuple[Step, ...]:
    if depth > MAX_DEPTH:
        raise Unplanned("nested too deep")
    if schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]:
        raise Unplanned(f"{type(schema).__name__} changes what it dumps")
    if type(schema).get_attribute is not Schema.get_attribute:
        raise Unplanned(f"{type(schema).__name__} reads its values its own way")
    steps = []
    for name, field in schema.dump_fields.items():
        dumped_as = field.data_key or name
        attribute = field.attribute or name
        if "." in attribute:
            raise Unplanned(f"a dotted attribute: {attribute}")
        step = _step(attribute, dumped_as, field, ids, depth)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _step(
    attribute: str, dumped_as: str, field: fields.Field, ids: bool, depth: int
) -> Step | None:
    if _kind_of(field, (fields.Nested,)):
        assert isinstance(field, fields.Nested)
        nested = field.schema
        plan = _plan(nested, ids, depth + 1)
        many = bool(field.many or nested.many)
        return Step(attribute, NESTED, plan, many) if plan else None
    if _kind_of(field, (fields.List, fields.Tuple)):
        assert isinstance(field, fields.List | fields.Tuple)
        if isinstance(field, fields.List) and dumped_as.endswith(LIST_KEY):
            if not _kind_of(field.inner, (fields.String, fields.UUID)):
                raise Unplanned(f"a list of person ids as {type(field.inner).__name__}")
            return Step(attribute, MANY)
        items = [field.inner] if isinstance(field, fields.List) else field.tuple_fields
        inner = [_step("", "", item, ids, depth + 1) for item in items]
        found = [step for step in inner if step is not None]
        if not found:
            return None
        if len(found) > 1:
            return Step(attribute, EACH, inner=Step("", ANY))
        one = found[0]
        if one.kind == NESTED and not one.many:  # a list of objects: as Nested(many=True)
            return Step(attribute, NESTED, one.plan, many=True)
        return Step(attribute, EACH, inner=one)
    if _kind_of(field, _ANYTHING) or type(field) is fields.Field:
        return Step(attribute, ANY)
    if _kind_of(field, _SCALARS):
        named = dumped_as.endswith(PERSON_KEYS) or (ids and dumped_as == "id")
        return Step(attribute, ONE) if named else None
    raise Unplanned(f"a {type(field).__name__} field")


# Reading a result -------------------------------------------------------------------------


class Unknown(Exception):
    """The result is not shaped as its plan expects."""


def people_of(result: Any, schema: Schema | None, ids_are_people: bool) -> set[str] | None:
    """The person ids a view's result names once ``schema`` dumps it (the whole result searched
    when there is no schema); None when that cannot be told from the result."""
    found: set[str] = set()
    try:
        if schema is None:
            _search(result, ids_are_people, found)
            return found
        plan = plan_of(schema, ids_are_people)
        if plan is None:
            return None
        for item in _items(result) if schema.many else (result,):
            _follow(plan, item, ids_are_people, found)
    except (Unknown, AttributeError):  # AttributeError: a key that is not a string
        return None
    return found


def _items(value: Any) -> Any:
    if type(value) is list or type(value) is tuple:
        return value
    raise Unknown


_ABSENT = object()
_DICT_ATTRIBUTES = frozenset(dir(dict))


def _follow(plan: tuple[Step, ...], value: Any, ids: bool, found: set[str]) -> None:
    if type(value) is not dict:
        raise Unknown  # an object read by attribute: not foreseen
    get = value.get
    for step in plan:
        item = get(step.key, _ABSENT)
        if item is _ABSENT:
            if step.key in _DICT_ATTRIBUTES:  # marshmallow then dumps the dict's own attribute
                raise Unknown
            continue
        if item is None:
            continue
        kind = step.kind
        if kind == ANY:  # the commonest steps first, without a call more
            if item:
                _search(item, ids, found)
        elif kind == ONE:
            _add(item, found)
        elif kind == NESTED and step.many:
            for one in _items(item):
                if one is not None:
                    _follow(step.plan, one, ids, found)
        else:
            _take(step, item, ids, found)


def _take(step: Step, item: Any, ids: bool, found: set[str]) -> None:
    kind = step.kind
    if kind == ONE:
        _add(item, found)
    elif kind == NESTED:
        if step.many:
            for one in _items(item):
                if one is not None:
                    _follow(step.plan, one, ids, found)
        else:
            _follow(step.plan, item, ids, found)
    elif kind == ANY:
        _search(item, ids, found)
    elif kind == MANY:
        _listed(_items(item), found)
    else:  # EACH
        inner = step.inner
        assert inner is not None
        for one in _items(item):
            if one is not None:
                _take(inner, one, ids, found)


def _search(value: Any, ids: bool, found: set[str]) -> None:
    """Everywhere in dicts, lists and tuples (what the schema does not describe)."""
    if type(value) is dict:
        for key, item in value.items():
            kind = type(item)
            if kind is str:  # the commonest value: checked first
                if key.endswith(PERSON_KEYS) or (ids and key == "id"):
                    _add(item, found)
            elif kind is dict:
                if item:
                    _search(item, ids, found)
            elif kind is list or kind is tuple:
                if key.endswith(LIST_KEY):
                    _listed(item, found)
                elif item:
                    _search(item, ids, found)
            elif kind is UUID and (key.endswith(PERSON_KEYS) or (ids and key == "id")):
                _add(item, found)
    elif type(value) is list or type(value) is tuple:
        for one in value:
            kind = type(one)
            if kind is dict or kind is list or kind is tuple:
                _search(one, ids, found)


def _listed(items: list[Any] | tuple[Any, ...], found: set[str]) -> None:
    """A list of person ids, read as :func:`people_in` reads it in the JSON text: every run of
    32 to 36 UUID characters in its items as JSON spells them, up to the first ``]``. A list
    holding lists or objects is read in the text its own way: such a result is not foreseen."""
    for one in items:
        kind = type(one)
        if kind is dict or kind is list or kind is tuple:
            raise Unknown
        if one is None or kind is bool:
            continue
        text = str(one) if kind is UUID else json.dumps(one)
        cut = text.find("]")
        for run in _UUID_TEXT.finditer(text if cut < 0 else text[:cut]):
            found.add(run.group(0).lower())
        if cut >= 0:
            return


def _add(value: Any, found: set[str]) -> None:
    if type(value) is str or type(value) is UUID:
        text = str(value)
        if _UUID_TEXT.fullmatch(text):
            found.add(text.lower())
