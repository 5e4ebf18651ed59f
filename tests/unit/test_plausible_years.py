"""POLKU_PLAUSIBLE_YEARS: read from the environment, and what the write services refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import Client

from services.runtime import build_embedded
from shared.settings import Settings, SettingsError
from shared.web.validation import year_pattern
from tests.api.helpers import SECRET, Api, assert_problem, cohort_body


def test_the_range_is_read_and_checked() -> None:
    assert Settings.from_env({}).plausible_years == (1950, 2100)
    assert Settings.from_env({"POLKU_PLAUSIBLE_YEARS": "1990-2030"}).plausible_years == (
        1990,
        2030,
    )
    for bad in ("2030-1990", "1990", "x-y", "0-2000", "1990-9999"):
        with pytest.raises(SettingsError, match="POLKU_PLAUSIBLE_YEARS"):
            Settings.from_env({"POLKU_PLAUSIBLE_YEARS": bad})


def test_the_pattern_states_the_years() -> None:
    pattern = year_pattern(1948, 2101)
    assert pattern == "^(1948|1949|195\\d|196\\d|197\\d|198\\d|199\\d|200\\d|201\\d|202\\d|" \
        "203\\d|204\\d|205\\d|206\\d|207\\d|208\\d|209\\d|2100|2101)-"  # fmt: skip


def test_a_deployment_narrows_the_range(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET, plausible_years=(2000, 2030))
    runtime = build_embedded(settings)
    try:
        api = Api(runtime, Client(runtime.wsgi))
        programme = api.programme()
        early = cohort_body(programme, start_date="1999-12-31")
        problem = assert_problem(api.post("/enrolment/cohorts", early), 422, {"start_date"})
        assert "2000 to 2030" in str(problem["errors"])
        assert api.post("/enrolment/cohorts", cohort_body(programme)).status_code == 201
    finally:
        runtime.close()
