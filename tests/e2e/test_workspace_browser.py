"""The HR workspace in a real Chromium: sign-in, the dashboard and its charts, as-of,
suppression, languages, the keyboard, axe on every page, and every export checked against
the JSON views."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.workspace import SCREENSHOTS, Site, axe_violations, launch, serve_pilot

pytestmark = pytest.mark.timeout(240)

NO_VALUE = "\N{EN DASH}"
MARKS = {"rect": "g.mark-rect.role-mark > path", "symbol": "g.mark-symbol.role-mark > path"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_pilot(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture(scope="module")
def board(browser: Any, site: Site) -> Iterator[Any]:
    """The demo dashboard, reached by signing in with one click from the printed link."""
    context = browser.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{site.base}/app/demo")
    assert "/app/sign-in?next=" in page.url  # no session yet: sent to sign in, and back
    page.click("#quick-sign-in")
    page.wait_for_selector("body[data-charts-rendered]", timeout=60_000)
    yield page
    context.close()


def signed_in(browser: Any, site: Site, locale: str = "en-GB", **dev: str) -> Any:
    """A new browser context signed in through the development page; its page."""
    context = browser.new_context(locale=locale, accept_downloads=True)
    page = context.new_page()
    if dev:
        page.goto(f"{site.base}/app/dev/sign-in")
        page.select_option("#role", dev["role"])
        page.fill("#person_id", dev.get("person_id", ""))
        page.click("form.stacked button[type=submit]")
    else:
        page.goto(f"{site.base}/app/demo")
        page.click("#quick-sign-in")
    page.wait_for_load_state()
    return page


def dashboard(page: Any, site: Site, query: str = "") -> None:
    page.goto(f"{site.base}/app/cohorts/{site.cohort_id}{query}")
    page.wait_for_selector("body[data-charts-rendered]", timeout=60_000)


def shown(cell: dict[str, Any]) -> bool:
    return not cell.get("suppressed") and cell.get("value") is not None


def expected_points(site: Site) -> dict[str, tuple[str, int]]:
    """Per chart, the mark drawn per data point and how many the JSON views imply."""
    c = f"/cohorts/{site.cohort_id}"
    funnel, growth, reaction = site.api(f"{c}/funnel"), site.api(f"{c}/growth"), None
    reaction = site.api(f"{c}/reaction")
    staff, mobility = site.api(f"{c}/staff-survey"), site.api(f"{c}/mobility")
    network = site.api(f"{c}/network")
    expected = {
        "chart-funnel": ("rect", sum(shown(v) for v in funnel["stages"].values())),
        "chart-attendance": (
            "rect",
            sum(shown(s["rate"]) for s in funnel["attendance"]["sessions"]),
        ),
        "chart-modes": (
            "rect",
            sum(shown(m["rate"]) for m in funnel["attendance"]["by_delivery"].values()),
        ),
        "chart-network": (
            "rect",
            sum(shown(g[k]) for g in network["groups"] for k in ("departments", "units")),
        ),
    }
    for ins in growth["instruments"]:
        count = sum(
            all(shown(ch[k]) for k in ("improvement", "ci_low", "ci_high")) for ch in ins["changes"]
        )
        expected[f"chart-growth-{ins['instrument_id'][:8]}"] = ("symbol", count)
    for ins in reaction["instruments"]:
        count = sum(
            len(i["distribution"]["value"]) for i in ins["items"] if shown(i["distribution"])
        )
        expected[f"chart-reaction-{ins['instrument_id'][:8]}"] = ("rect", count)
    for ins in staff["instruments"]:
        count = sum(
            shown(cell)
            for series in (*ins["units"], *ins["organisations"])
            for year in series["years"]
            for cell in year["values"].values()
        )
        expected[f"chart-staff-{ins['instrument_id'][:8]}"] = ("symbol", count)
    for outcome in ("first_move", "first_rotation"):
        count = sum(
            len(mobility[group][outcome]["curve"]["value"] or [])
            for group in ("participants", "comparison")
        )
        expected[f"chart-km-{outcome}"] = ("symbol", count)
    return expected


def test_sign_in_opens_the_demo_dashboard_with_every_chart_drawn(board: Any, site: Site) -> None:
    assert board.url.endswith(f"/app/cohorts/{site.cohort_id}")
    assert board.locator("h1").inner_text() == "TEMPO 2020 pilot"
    assert board.locator("form.signout .who").inner_text().endswith("HR administrator")
    charts = board.locator("div.vega")
    expected = expected_points(site)
    assert sorted(charts.evaluate_all("els => els.map(e => e.id)")) == sorted(expected)
    for chart_id, (mark, count) in expected.items():
        chart = board.locator(f"#{chart_id}")
        assert chart.get_attribute("data-rendered") == "true", chart_id
        assert chart.locator("svg").count() == 1, chart_id
        assert count > 0, f"{chart_id}: the pilot should give it data"
        assert chart.locator(MARKS[mark]).count() == count, chart_id
        assert chart.get_attribute("aria-label"), f"{chart_id} has no text alternative"
    SCREENSHOTS.mkdir(exist_ok=True)
    board.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)


def test_pages_need_a_session(browser: Any, site: Site) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{site.base}/app/cohorts/{site.cohort_id}")
    assert "/app/sign-in?next=" in page.url
    assert page.goto(f"{site.base}/app/cohorts/{site.cohort_id}/export.xlsx").url.startswith(
        f"{site.base}/app/sign-in"
    )
    page.context.close()


def kirkpatrick_figure(page: Any, label: str) -> str:
    return str(page.locator(f"dt:text-is('{label}') + dd").inner_text())


def test_the_as_of_control_shows_the_figures_known_then(board: Any, site: Site) -> None:
    page = board.context.new_page()
    label = "Mean answer of the reaction survey"
    now = site.api(f"/cohorts/{site.cohort_id}/kirkpatrick")
    then = site.api(f"/cohorts/{site.cohort_id}/kirkpatrick", as_of=site.between.isoformat())
    mean_now, mean_then = (
        next(f for level in view["levels"] for f in level["figures"] if f["key"] == "mean_answer")
        for view in (now, then)
    )
    assert mean_now["value"] is not None and mean_then["value"] is None
    dashboard(page, site)
    assert kirkpatrick_figure(page, label) == f"{mean_now['value']:.2f}"
    page.fill("#as_of", site.between.strftime("%Y-%m-%dT%H:%M:%S"))
    page.click("form.asof button[type=submit]")
    page.wait_for_selector("body[data-charts-rendered]", timeout=60_000)
    assert "as_of=" in page.url
    then_text = kirkpatrick_figure(page, label)
    assert then_text != f"{mean_now['value']:.2f}"
    assert then_text.startswith("fewer than 5" if mean_then["suppressed"] else NO_VALUE)
    # Links keep the moment: the cohort list opened from here is as of then too.
    # A datetime-local input gives its value in the shortest form: no ":00" when the seconds are 0.
    shown = "%Y-%m-%dT%H:%M" if site.between.second == 0 else "%Y-%m-%dT%H:%M:%S"
    assert page.locator("#as_of").input_value() == site.between.strftime(shown)
    page.close()


def test_a_suppressed_cell_reads_fewer_than_five_with_its_reason(board: Any, site: Site) -> None:
    network = site.api(f"/cohorts/{site.cohort_id}/network")
    hidden = next(g for g in network["groups"] if g["members"]["suppressed"])
    row = board.locator("section[aria-labelledby=network-h] tr", has_text=hidden["name"])
    cell = row.locator(".suppressed").first
    assert cell.inner_text().startswith("fewer than 5")
    assert cell.get_attribute("title") == hidden["members"]["reason"]
    assert hidden["members"]["reason"] in cell.inner_text()  # in text too, not only on hover


def test_the_language_follows_the_browser_and_the_switch_is_remembered(
    browser: Any, site: Site
) -> None:
    page = signed_in(browser, site, locale="fi-FI")
    page.goto(f"{site.base}/app/programmes/{site.programme_id}")
    assert page.locator("html").get_attribute("lang") == "fi"
    assert (
        page.locator("#kirkpatrick-h").inner_text()
        == "Kirkpatrick-yhteenveto, ryhmät yhdistettyinä"
    )
    assert page.locator("label[for=as_of]").inner_text() == "Tilanne hetkellä (UTC)"
    page.click("form.language button[value=sv]")
    page.wait_for_load_state()
    assert page.url.endswith(f"/app/programmes/{site.programme_id}")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("#kirkpatrick-h").inner_text() == (
        "Kirkpatrick-sammanfattning, grupperna sammanslagna"
    )
    page.goto(f"{site.base}/app/")
    assert page.locator("html").get_attribute("lang") == "sv"  # remembered, not the browser's
    assert page.locator("h1").inner_text() == "Grupper"
    # Numbers and dates follow the language: a Swedish date, not an ISO one.
    assert "2020-02-01" not in page.locator("table.data").inner_text()
    page.context.close()


def test_keyboard_alone_signs_in_and_reaches_the_dashboard(browser: Any, site: Site) -> None:
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{site.base}/app/sign-in?next=/app/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "quick-sign-in":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quick-sign-in"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/app/")
    for _ in range(40):
        if page.evaluate("document.activeElement.textContent") == "TEMPO 2020 pilot":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-charts-rendered]", timeout=60_000)
    assert page.url.endswith(f"/app/cohorts/{site.cohort_id}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link
    assert page.evaluate("document.activeElement.id") == "main"
    page.context.close()


def test_axe_finds_no_wcag_a_or_aa_violation_on_any_page(
    browser: Any, board: Any, site: Site
) -> None:
    anonymous = browser.new_context(locale="fi-FI").new_page()
    other = board.context.new_page()
    pages = {
        "sign-in": (anonymous, f"{site.base}/app/sign-in"),
        "dev sign-in": (anonymous, f"{site.base}/app/dev/sign-in"),
        "cohorts": (other, f"{site.base}/app/"),
        "programme": (other, f"{site.base}/app/programmes/{site.programme_id}"),
        "person": (other, f"{site.base}/app/people/{site.people['P01']}"),
        "not found": (other, f"{site.base}/app/cohorts/{'0' * 8}-0000-4000-8000-{'0' * 12}"),
    }
    found = {"dashboard": axe_violations(board)}
    for name, (tab, url) in pages.items():
        tab.goto(url)
        if name == "person":
            tab.wait_for_selector("body[data-charts-rendered]", timeout=60_000)
        found[name] = axe_violations(tab)
    assert found == {name: [] for name in found}
    anonymous.context.close()
    other.close()


def download(page: Any, link: str) -> bytes:
    with page.expect_download() as info:
        page.click(f"nav.downloads a[href*='{link}']")
    return Path(info.value.path()).read_bytes()


def test_every_export_matches_the_json_views(board: Any, site: Site) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    page = board
    c = f"/cohorts/{site.cohort_id}"
    funnel, growth = site.api(f"{c}/funnel"), site.api(f"{c}/growth")
    mobility, network = site.api(f"{c}/mobility"), site.api(f"{c}/network")
    kirkpatrick = site.api(f"{c}/kirkpatrick")
    hidden = next(g for g in network["groups"] if g["members"]["suppressed"])

    book = load_workbook(io.BytesIO(download(page, "export.xlsx")))
    stages = {row[0]: row[1] for row in book["Funnel"].iter_rows(min_row=2, values_only=True)}
    assert stages["Invited"] == funnel["stages"]["invited"]["value"]
    assert stages["Completion"] == funnel["rates"]["completion"]["value"]
    changes = list(book["Growth"].iter_rows(min_row=2, values_only=True))
    assert len(changes) == sum(len(i["changes"]) for i in growth["instruments"])
    first = growth["instruments"][0]["changes"][0]
    assert changes[0][5] == first["improvement"]["value"]
    assert changes[0][6] == first["ci_low"]["value"]
    moves = list(book["Mobility at 6, 12 and 24 months"].iter_rows(min_row=2, values_only=True))
    assert moves[1][2] == mobility["participants"]["first_move"]["incidence"]["12"]["value"]
    groups = {row[0]: row for row in book["Network"].iter_rows(min_row=2, values_only=True)}
    assert groups[hidden["name"]][1] == "< 5"
    sessions = list(book["Attendance per session"].iter_rows(min_row=2, values_only=True))
    assert (
        sessions[0][1].date().isoformat() == funnel["attendance"]["sessions"][0]["starts_at"][:10]
    )

    raw = download(page, "export.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    rate = next(
        r
        for r in rows
        if r[:3] == ["Kirkpatrick summary", "L1 Reaction", "Response rate of the reaction survey"]
    )
    expected_rate = next(
        f["value"]
        for lv in kirkpatrick["levels"]
        for f in lv["figures"]
        if f["key"] == "response_rate"
    )
    assert "," in rate[3] and float(rate[3].replace(",", ".")) == pytest.approx(expected_rate)
    assert ["Network", hidden["name"], "< 5"] == next(
        r for r in rows if r[1:2] == [hidden["name"]]
    )[:3]

    pdf = PdfReader(io.BytesIO(download(page, "report.pdf")))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "TEMPO 2020 pilot" in text
    assert "< 5" in text
    assert re.search(r"Invited\s+20", text)

    archive = zipfile.ZipFile(io.BytesIO(download(page, "charts.zip")))
    names = set(archive.namelist())
    keys = {name.removeprefix("chart-") for name in expected_points(site)}
    assert names == {f"{k}.{ext}" for k in keys for ext in ("svg", "png")}
    assert archive.read("funnel.svg").lstrip().startswith(b"<svg")
    assert archive.read("funnel.png").startswith(b"\x89PNG")


def test_a_participant_sees_only_their_own_page(browser: Any, site: Site) -> None:
    own, other = site.people["P01"], site.people["P02"]
    page = signed_in(browser, site, role="participant", person_id=own)
    assert page.url.endswith(f"/app/people/{own}")
    assert page.locator("h1").inner_text() == "My page"
    timeline = site.api(f"/people/{own}/timeline", limit=500)
    assert page.locator("section[aria-labelledby=timeline-h] tbody tr").count() == len(
        timeline["entries"]
    )
    assert page.goto(f"{site.base}/app/people/{other}").status == 404
    assert page.goto(f"{site.base}/app/cohorts/{site.cohort_id}").status == 403
    assert page.goto(f"{site.base}/app/cohorts/{site.cohort_id}/export.xlsx").status == 403
    page.context.close()
