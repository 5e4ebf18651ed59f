"""Every tracking view's CSV: labels beside codes, lower-case true/false, no JSON in a cell."""

from __future__ import annotations

import csv
import io

import pytest

from services.tracking.views.csv_cells import CODE_LABELS, text
from tests.support.pilot import Pilot

COHORT = ("funnel", "growth", "reaction", "staff-survey", "mobility", "network", "kirkpatrick")
SCOPED = ("funnel", "growth", "mobility", "staff-survey", "kirkpatrick")


def paths(pilot: Pilot) -> list[str]:
    programme = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/funnel")["programme_id"]
    person = pilot.person("P01")
    return [
        *(f"/tracking/cohorts/{pilot.cohort_id}/{view}" for view in COHORT),
        f"/tracking/people/{person}/timeline",
        f"/tracking/people/{person}/growth",
        *(f"/tracking/programmes/{programme}/{view}" for view in SCOPED),
        *(f"/tracking/organisation/{view}" for view in SCOPED),
        "/tracking/cohorts",
    ]


def test_every_csv_carries_labels_plain_booleans_and_no_json(pilot: Pilot) -> None:
    seen_labels = set()
    for path in paths(pilot):
        response = pilot.get(path, format="csv")
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows, path
        for row in rows:
            assert len(row) == len(header), path
            for column, cell in zip(header, row, strict=True):
                assert cell not in ("True", "False", "None"), (path, column, cell)
                assert not cell.startswith(("{", "[", '"')), (path, column, cell)
        for i, column in enumerate(header):
            if column in CODE_LABELS and any(r[i] and not r[i].isdigit() for r in rows):
                assert f"{column}_label" in header, (path, column)
                labels = header.index(f"{column}_label")
                seen_labels |= {r[labels] for r in rows if r[i]}
    assert {"In person", "Virtual", "Self", "Participants", "Baseline"} <= seen_labels


def test_a_view_s_own_keys_carry_their_labels(pilot: Pilot) -> None:
    growth = pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/growth", format="csv")
    rows = list(csv.DictReader(io.StringIO(growth.get_data(as_text=True))))
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/growth")
    labels = {d["key"]: d["label"] for i in view["instruments"] for d in i["dimensions"]}
    assert rows and all(r["dimension_label"] == labels[r["dimension"]] for r in rows)
    assert {r["reverse_scored"] for r in rows} <= {"true", "false"}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (True, "true"),
        (False, "false"),
        (None, ""),
        ({"1": 2, "2": 0}, "1: 2; 2: 0"),
        ({"scores": {"a": 1.5}, "wave": "post"}, "scores: (a: 1.5); wave: post"),
        (["x", "y"], "x; y"),
        ("=SUM(A1)", "'=SUM(A1)"),
        (3.25, 3.25),
    ],
)
def test_cells_are_plain_text(value: object, written: object) -> None:
    assert text(value) == written
