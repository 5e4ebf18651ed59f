"""The release ledger: every population a figure was released over, shared by all callers.

A *measure* is one variable summed over people, named independently of who asks, with which
filters, for which cohort or at which ``as_of``: for growth, the instrument (the *family*) and
the dimension, rater group and wave; for mobility, the organisation (the family), the outcome
and the statistic, each person counted with the day they are followed from. A *release* is a
figure shown over a *population*, the exact set of people (or cohort runs) behind it.

Before a figure is shown, its population is checked against every population already released
on the same measure, by anyone (secondary suppression):

- **differencing**: refused when it differs from one of them by 1 to ``minimum - 1`` people
  (symmetric difference), since the two sums subtracted describe those few; an identical
  population is released again freely, as it adds nothing;
- **linear audit**: refused when, with the earlier populations, it would let some person's
  value be solved for: that person's unit vector then lies in the row space of the released
  populations' membership vectors (a leverage of 1 in an SVD of that matrix). This catches
  differences over three or more answers, such as every department but one against the whole.

A refused figure is ``null`` with the reason; nothing is recorded for it. An admitted new
population is recorded in ``tr_releases`` (bookkeeping beside the read models, not derived from
the logs: a rebuild or ``polku replay`` keeps it and never compares it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from services.tracking.changes import bump
from shared.sql import Cursor

Population = frozenset[str]
Loader = Callable[[str], list[tuple[str, Population]]]
"""Family -> every (measure, population) released in it so far."""

PINNED = 1 - 1e-6
"""A leverage this close to 1 means the person's unit vector is in the row space."""


def differs_reason(minimum: int) -> str:
    return (
        f"secondary suppression: differs by fewer than {minimum} people from a population"
        f" already released for the same figure ({minimum} is the minimum)"
    )


def singles_out_reason() -> str:
    return (
        "secondary suppression: with figures already released for the same measure it would"
        " single out a person's value"
    )


class RowSpace:
    """The row space of released populations' membership vectors, as an orthonormal basis.

    A person's leverage (the squared norm of their column of the basis) is 1 exactly when
    their unit vector lies in the row space, that is when their value can be solved for.
    Built by one SVD; each further population extends it by one Gram-Schmidt step.
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.basis = np.zeros((0, 0))
        self.leverage = np.zeros(0)
        self._checked: tuple[Population, int, np.ndarray | None] | None = None
        """The last population :meth:`singles_out` checked, the rank it was checked at, and
        its direction: :meth:`add` of the same population next reuses it."""

    @classmethod
    def of(cls, populations: Iterable[Population]) -> RowSpace:
        space = cls()
        rows = [p for p in populations if p]
        if not rows:
            return space
        space._widen(set().union(*rows))
        matrix = np.zeros((len(rows), len(space.index)))
        for r, population in enumerate(rows):
            matrix[r, [space.index[p] for p in population]] = 1.0
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > singular[0] * 1e-10).sum())
        space.basis = vt[:rank]
        space.leverage = (space.basis**2).sum(axis=0)
        return space

    def pinned(self) -> set[str]:
        return {p for p, i in self.index.items() if self.leverage[i] > PINNED}

    def _widen(self, people: Iterable[str]) -> None:
        index = self.index
        for person in sorted({p for p in people if p not in index}):
            index[person] = len(index)
        extra = len(self.index) - self.basis.shape[1]
        if extra:
            self.basis = np.pad(self.basis, ((0, 0), (0, extra)))
            self.leverage = np.pad(self.leverage, (0, extra))

    def _direction(self, population: Population) -> np.ndarray | None:
        """The new population's vector less its projection on the space, normalised; None
        when it lies in the space already."""
        self._widen(population)
        vector = np.zeros(len(self.index))
        vector[[self.index[p] for p in population]] = 1.0
        residual = vector - self.basis.T @ (self.basis @ vector)
        norm = float(np.linalg.norm(residual))
        return None if norm < 1e-9 * max(1.0, float(np.linalg.norm(vector))) else residual / norm

    def singles_out(self, population: Population) -> bool:
        """Whether adding ``population`` would pin down someone not pinned before."""
        direction = self._direction(population)
        self._checked = (population, self.basis.shape[0], direction)
        if direction is None:
            return False
        after = self.leverage + direction**2
        return bool(((after > PINNED) & (self.leverage <= PINNED)).any())

    def add(self, population: Population) -> None:
        checked, self._checked = self._checked, None
        if (
            checked is not None
            and checked[0] is population
            and checked[1] == self.basis.shape[0]
            and (checked[2] is None or len(checked[2]) == len(self.index))
        ):
            direction = checked[2]  # the space has not changed since it was checked
        else:
            direction = self._direction(population)
        if direction is not None:
            self.basis = np.vstack([self.basis, direction])
            self.leverage = self.leverage + direction**2


def pinned(populations: Iterable[Population]) -> set[str]:
    """Whose value is solvable from sums over ``populations`` (a linear attacker's view)."""
    return RowSpace.of(populations).pinned()


class Releases:
    """One answer's releases: checked against the ledger and against each other.

    ``load`` reads a family's earlier releases (once per family); :meth:`record` writes the
    admitted new ones. Without ``load`` (a view computed outside the API) only the answer's
    own cells are checked against each other.
    """

    def __init__(self, load: Loader | None = None) -> None:
        self._load = load
        self._known: dict[str, dict[str, set[Population]]] = {}
        self._spaces: dict[tuple[str, str], RowSpace] = {}
        self.new: list[tuple[str, str, Population]] = []

    def _family(self, family: str) -> dict[str, set[Population]]:
        known = self._known.get(family)
        if known is None:
            known = defaultdict(set)
            for measure, population in self._load(family) if self._load else []:
                known[measure].add(population)
            self._known[family] = known
        return known

    def admit(
        self, family: str, measures: Iterable[str], members: Iterable[str], minimum: int
    ) -> str | None:
        """None when ``members`` may be released on every one of ``measures`` (and then it
        is, for all of them), else why not."""
        population = frozenset(members)
        known = self._family(family)
        names = list(measures)
        for measure in names:
            earlier = known[measure]
            if population in earlier:
                continue
            if any(0 < len(population ^ other) < minimum for other in earlier):
                return differs_reason(minimum)
            if self._space(family, measure).singles_out(population):
                return singles_out_reason()
        for measure in names:
            if population not in known[measure]:
                known[measure].add(population)
                self._space(family, measure).add(population)
                self.new.append((family, measure, population))
        return None

    def _space(self, family: str, measure: str) -> RowSpace:
        """The measure's row space, built once per answer from what was released before."""
        space = self._spaces.get((family, measure))
        if space is None:
            space = RowSpace.of(self._family(family)[measure])
            self._spaces[(family, measure)] = space
        return space

    def record(self, cur: Cursor) -> None:
        at = dt.datetime.now(dt.UTC).isoformat()
        # Each population's member list and digest, made once: an answer releases one
        # population on many measures, and a comparison group's list is 100,000 ids long.
        encoded: dict[Population, tuple[str, str]] = {}
        for family, measure, population in self.new:
            found = encoded.get(population)
            if found is None:
                members = json.dumps(sorted(population))
                # Keyed by a digest: a comparison group's member list outgrows an index entry.
                found = encoded[population] = (
                    members,
                    hashlib.sha256(members.encode()).hexdigest(),
                )
            members, digest = found
            cur.execute(
                "INSERT INTO tr_releases (family, measure, population, members, size, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (family, measure, population) DO NOTHING",
                (family, measure, digest, members, len(population), at),
            )
        if self.new:  # what was kept of the ledger (api.base.releases) gives way
            bump(cur, [LEDGER])
        self.new = []


LEDGER = "tr_releases"
"""The ledger's table: its change counter goes up with every release recorded."""


_INTERNED: weakref.WeakValueDictionary[Population, Population] = weakref.WeakValueDictionary()


def interned(members: Iterable[str]) -> Population:
    """The one population object of these members while any is held: a kept answer's
    population and the ledger's equal one are then the same object, so finding it among the
    released ones costs a hash lookup, not a comparison of every member."""
    population = frozenset(members)
    return _INTERNED.setdefault(population, population)


_DECODED: weakref.WeakValueDictionary[str, Population] = weakref.WeakValueDictionary()
"""Populations by their digest, while any is held: a family read again after a release decodes
only the populations it did not hold already."""


def load(cur: Cursor, family: str) -> list[tuple[str, Population]]:
    """Every (measure, population) released in ``family``; a population not held already is
    read once, from one of its rows by primary key.

    A population released on several measures has its member list on each of its rows, and a
    comparison group's is megabytes long: a ``DISTINCT`` over the lists would compare them
    all (on PostgreSQL 0.12 s, the first answer after a comparison group's release at
    100,000 people).
    """
    cur.execute("SELECT measure, population FROM tr_releases WHERE family = ?", (family,))
    rows = cur.fetchall()
    held = {digest: found for _, digest in rows if (found := _DECODED.get(digest)) is not None}
    missing = {digest: measure for measure, digest in rows if digest not in held}
    for digest, measure in sorted(missing.items()):
        cur.execute(
            "SELECT members FROM tr_releases WHERE family = ? AND measure = ? AND population = ?",
            (family, measure, digest),
        )
        (members,) = cur.fetchone()
        held[digest] = _DECODED.setdefault(digest, interned(json.loads(members)))
    return [(measure, held[digest]) for measure, digest in rows]


def withheld(reason: str) -> dict[str, Any]:
    """A cell withheld by secondary suppression."""
    return {"value": None, "n": None, "suppressed": True, "reason": reason}


def suppress(row: dict[str, Any], keys: Iterable[str], reason: str) -> None:
    """Withholds every one of ``keys`` (cells) of ``row``."""
    for key in keys:
        row[key] = withheld(reason)
