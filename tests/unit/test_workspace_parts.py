"""The workspace's parts without a server: chart templates are valid Vega-Lite, suppressed
cells never become numbers, the Finnish CSV's number format, the catalogues, the demo link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from services.cli import workspace_link
from services.workspace import chart_templates, charts, exports, i18n, tables
from services.workspace.tables import Column, Hidden, Table
from shared.settings import Settings

SUPPRESSED = {"value": None, "n": None, "suppressed": True, "reason": "computed from fewer than 7"}


@pytest.fixture
def app() -> Iterator[Flask]:
    app = Flask("workspace-parts")
    i18n.install(app)
    with app.test_request_context("/", headers={"Accept-Language": "fi"}):
        yield app


@pytest.mark.parametrize("name", sorted(chart_templates.TEMPLATES))
def test_every_chart_template_is_valid_vega_lite(app: Flask, name: str) -> None:
    texts = {"growth": ("t",), "reaction": ("t",), "staff": ("Organisaatio",), "mobility": ("t",)}
    chart = chart_templates.TEMPLATES[name](*texts.get(name, ()))
    chart.to_dict(validate=True)  # raises on a spec Vega-Lite would refuse


def test_a_suppressed_cell_is_never_a_mark_nor_a_number(app: Flask) -> None:
    view = {
        "stages": {
            "invited": {"value": 20, "n": 20, "suppressed": False, "reason": None},
            "declined": SUPPRESSED,
        }
    }
    chart = charts.funnel(view, {"invited": "Kutsuttu", "declined": "Kieltäytynyt"})
    assert chart.spec["datasets"]["rows"] == [{"stage": "Kutsuttu", "people": 20}]
    assert chart.points == 1
    hidden = tables.cell(SUPPRESSED)
    assert isinstance(hidden, Hidden) and str(hidden) == "< 7"
    assert i18n.fewer_than(SUPPRESSED) == "alle 7"


def test_the_finnish_csv_writes_decimal_commas_dates_and_hidden_cells(app: Flask) -> None:
    table = Table(
        "t",
        "Taulukko",
        [
            Column("a"),
            Column("b", "number"),
            Column("c", "percent"),
            Column("d", "date"),
            Column("e", "int"),
        ],
        [["=1+1", 0.12345, 0.8, dt.date(2020, 2, 1), Hidden(5, "few")]],
    )
    text = exports.csv_of([table]).decode("utf-8")
    assert text.startswith("\ufeff")
    assert text.splitlines()[1] == "Taulukko;'=1+1;0,12;0,8;2020-02-01;< 5"


def test_numbers_and_dates_follow_the_language(app: Flask) -> None:
    assert i18n.number(1234.5) == "1\xa0234,50"
    assert i18n.percent(0.8) == "80\xa0%"
    assert i18n.day("2020-02-01") == "1.2.2020"


def test_the_catalogues_compile_and_translate(tmp_path: Path) -> None:
    folder = tmp_path / "translations"
    for po in i18n.TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        target = folder / po.relative_to(i18n.TRANSLATIONS)
        target.parent.mkdir(parents=True)
        target.write_bytes(po.read_bytes())
    made = i18n.compile_catalogues(folder)
    assert sorted(p.parent.parent.name for p in made) == ["fi", "sv"]
    assert i18n.compile_catalogues(folder) == []  # up to date: nothing to do


def test_polku_up_prints_the_dashboard_link_first() -> None:
    settings = Settings(dev_signin=True)
    line = workspace_link("http://127.0.0.1:8000", settings, demo=True)
    assert line.startswith("Open the TEMPO 2020 dashboard: http://127.0.0.1:8000/app/demo")
    assert "one click" in line
    plain = workspace_link("http://h:1", Settings(), demo=False)
    assert "http://h:1/app/" in plain and "one click" not in plain
