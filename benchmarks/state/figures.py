"""The figures one run produces, and the arithmetic on them: percentiles, memory, growth.

A :class:`Figure` is one number with its unit and, where the run measured one, a baseline of
the same kind beside it (``ratio`` is figure / baseline). Figures are keyed by ``name``, so the
same figure at two sizes gives a growth factor.
"""

from __future__ import annotations

import math
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Figure:
    name: str
    unit: str
    value: float
    baseline: float | None = None
    baseline_name: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "ratio": self.ratio,
            "details": self.details,
        }


@dataclass
class SizeRun:
    """Everything measured for one size on one database."""

    database: str
    people: int
    events: int
    figures: list[Figure] = field(default_factory=list)
    skipped: str | None = None

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "people": self.people,
            "events": self.events,
            "skipped": self.skipped,
            "figures": [f.as_dict() for f in self.figures],
        }


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (it only grows)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float | None:
    """This process's resident memory now (Linux), for the growth of one step."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def growth(smaller: float | None, larger: float | None) -> float | None:
    if not smaller or larger is None:
        return None
    return larger / smaller
