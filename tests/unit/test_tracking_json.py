"""The projections' JSON encoder made once writes exactly what ``json.dumps`` writes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
def test_the_journal_form_is_json_dumps_in_the_data_s_own_key_order(value: Any) -> None:
    assert compact_json(default=str)(value) == json.dumps(value, separators=(",", ":"))


def test_values_json_cannot_hold_go_through_the_default() -> None:
    value = {"b": dt.date(2020, 1, 2), "a": ["ä", 1.5]}
    encode = compact_json(default=str)
    assert encode(value) == json.dumps(value, separators=(",", ":"), default=str)
    assert encode(value) == '{"b":"2020-01-02","a":["\\u00e4",1.5]}'
    with pytest.raises(TypeError):
        as_json({"a": dt.date(2020, 1, 2)})
