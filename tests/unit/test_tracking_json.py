"""The projections' JSON encoder made once writes exactly what ``json.dumps`` writes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.tracking.journal import _json as journal_json
from services.tracking.projections.base import as_json, compact_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_as_json_is_json_dumps_with_sorted_keys_and_no_spaces(value: Any) -> None:
    assert as_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


@given(JSON)
def test_the_compact_form_is_json_dumps_in_the_data_s_own_key_order(value: Any) -> None:
    assert compact_json(default=str)(value) == json.dumps(value, separators=(",", ":"))


def test_values_json_cannot_hold_go_through_the_default() -> None:
    value = {"b": dt.date(2020, 1, 2), "a": ["ä", 1.5]}
    encode = compact_json(default=str)
    assert encode(value) == json.dumps(value, separators=(",", ":"), default=str)
    assert encode(value) == '{"b":"2020-01-02","a":["\\u00e4",1.5]}'
    with pytest.raises(TypeError):
        as_json({"a": dt.date(2020, 1, 2)})


FINITE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
"""What event data can hold: JSON has no NaN (integers beyond 64 bits included)."""


@given(FINITE_JSON)
def test_the_journal_s_json_reads_back_as_the_data(value: Any) -> None:
    assert json.loads(journal_json({"data": value})) == {"data": value}


def test_the_journal_writes_what_orjson_refuses_with_the_standard_encoder() -> None:
    huge = {"count": 2**70, "name": "Sisäministeriö"}
    assert journal_json(huge) == json.dumps(huge, separators=(",", ":"))
    assert journal_json({"name": "Sisäministeriö"}) == '{"name":"Sisäministeriö"}'  # UTF-8
