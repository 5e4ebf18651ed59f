"""The state-scale tables: every figure per size, and its growth factor between sizes.

Latencies grow by their p50: with ten samples on a shared machine a p95 is one request, and
one collector pause or neighbour's burst moves it several times over.

A cost (ms, s, MB) is flagged ``!`` when it grew more than 1.25 times as fast as the number of
events, a rate (events/s) when it fell below 0.8 of what it was: growth worse than linear in
the data shows at a glance.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from benchmarks.state.figures import Figure, SizeRun, growth

SUPERLINEAR = 1.25
RATE_DROP = 0.8


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "events/s" or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def size_table(run: SizeRun) -> str:
    title = f"{run.database}: {run.people:,} people, {run.events:,} events"
    if run.skipped:
        return f"{title}: SKIP ({run.skipped})"
    rows = [("figure", "value", "baseline", "ratio", "baseline is")]
    for f in run.figures:
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
        rows.append(
            (f.name, fmt(f.value, f.unit), fmt(f.baseline, f.unit) if f.baseline else "", ratio,
             f.baseline_name or "")
        )  # fmt: skip
    return f"{title}\n{_columns(rows)}"


def growth_table(runs: Sequence[SizeRun]) -> str:
    """Growth of each figure between successive sizes of one database."""
    measured = sorted((r for r in runs if not r.skipped), key=lambda r: r.people)
    if len(measured) < 2:
        return ""
    pairs = list(itertools.pairwise(measured))
    header = ["figure", *(f"{a.people:,} -> {b.people:,}" for a, b in pairs)]
    rows = [tuple(header)]
    rows.append(("people", *(fmt(growth(a.people, b.people)) + "x" for a, b in pairs)))
    rows.append(("events", *(fmt(growth(a.events, b.events)) + "x" for a, b in pairs)))
    for figure in measured[0].figures:
        cells = []
        for a, b in pairs:
            before, after = _find(a, figure.name), _find(b, figure.name)
            factor = growth(_steady(before), _steady(after))
            cells.append(_flagged(factor, figure.unit, growth(a.events, b.events)))
        label = figure.name.replace(" p95", " p50") if "p50_ms" in figure.details else figure.name
        rows.append((label, *cells))
    title = f"growth ({measured[0].database}; latencies by p50; ! = worse than linear in events)"
    return f"{title}\n{_columns(rows)}"


def _steady(figure: Figure | None) -> float | None:
    """A latency's p50, steadier on a busy machine than its p95; any other figure's value."""
    if figure is None:
        return None
    p50 = figure.details.get("p50_ms")
    return float(p50) if p50 is not None else figure.value


def _find(run: SizeRun, name: str) -> Figure | None:
    return next((f for f in run.figures if f.name == name), None)


def _flagged(factor: float | None, unit: str, data: float | None) -> str:
    if factor is None:
        return "-"
    text = f"{factor:.2f}x"
    if unit.endswith("/s"):
        return text + (" !" if factor < RATE_DROP else "")
    if data and factor > data * SUPERLINEAR:
        return text + " !"
    return text


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
