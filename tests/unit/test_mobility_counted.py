"""A group's mobility figures computed with everyone unmoved counted by origin give exactly
what following every person one by one gave.

The digests below are of ``group_figures`` as it was before it counted (commit e6304b7: every
person's observation in a list), over 60 seeded random groups: sizes 0 to 2,500, one to six
origins, no one to everyone with moves, moves before, within and after the follow-up, moves of
someone outside the group, an empty list of moves, minimums 1 to 10. Any change of any figure,
suppression or reason changes a digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from typing import Any

import pytest

from services.tracking.views.mobility_outcomes import Move, group_figures
from shared.events.people import SCOPES

KINDS = ("job_rotation", "left_state", "new_post", "promotion", "secondment", "transfer")

PER_PERSON = {
    0: "c4ad44a686719f59",
    1: "4c8b0b6045e60ac1",
    2: "aca17757f6a23631",
    3: "5ec2ec676a425fab",
    4: "333344ff0f1e048b",
    5: "250ba0422439e66b",
    6: "fc40a7dd53d8b1c3",
    7: "eb1c207cc41463cc",
    8: "59a89f03582314b8",
    9: "a871032aaa1ee261",
    10: "41ccb4b4772f3787",
    11: "2cbcc3411f6da729",
    12: "762c729ffc906e21",
    13: "a52e0c30d6662383",
    14: "c27702cdb4d76d61",
    15: "2dd11422cc927186",
    16: "8678610c07714732",
    17: "4829f65b1001fa19",
    18: "0e23a72a1eb9f113",
    19: "aca17757f6a23631",
    20: "c6a289b63a882629",
    21: "edf0a2daa8c3a4e9",
    22: "016120771502ad19",
    23: "2baf16f9df18fc04",
    24: "ee6852230eb63978",
    25: "93e14020d6df3c9e",
    26: "da55bd2fe2999421",
    27: "dbeed0903b9a23b7",
    28: "2098cd284a4f59b7",
    29: "a5325c8c65a9b5fe",
    30: "e2a49dc81c27fc2d",
    31: "41ccb4b4772f3787",
    32: "6e2a9737cb864ebd",
    33: "0ff7b9810834f6ec",
    34: "72e9e5ecf4885c78",
    35: "dd092f32ccf4a2e2",
    36: "98a71c09f1598ee3",
    37: "e9a2b4086a8b21a7",
    38: "99683384256d3f25",
    39: "2832215b008c80c5",
    40: "90e5a62cf5249b4e",
    41: "f0b2b872f8e96c54",
    42: "3731a6ed626f5d0b",
    43: "2dd11422cc927186",
    44: "44ee63327344d746",
    45: "a6b343f8a6adf60b",
    46: "6087a4a51bf8f599",
    47: "d8cd853851f861ec",
    48: "f9c1619ca3f6c539",
    49: "cd7d24dd44c537ae",
    50: "bdd223079223b8aa",
    51: "625793c5c3b0af02",
    52: "99c6a522088de079",
    53: "a2231a37cec276f0",
    54: "d8d7ab3fd0bcae74",
    55: "0f8be87e9f804961",
    56: "3f2b8dd6ef3036b9",
    57: "2dd11422cc927186",
    58: "a5f2938be161f12c",
    59: "e0fc93246f92d94e",
}


def case(seed: int) -> tuple[dict[str, dt.date], dict[str, list[Move]], dt.date, int]:
    rng = random.Random(seed)
    size = rng.choice([0, 1, 3, 8, 30, 120, 700, 2500])
    ends = [
        dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(0, 1500))
        for _ in range(rng.randint(1, 6))
    ]
    view = dt.date(2019, 6, 1) + dt.timedelta(days=rng.randrange(0, 2500))
    origins = {f"p{i}": rng.choice(ends) for i in range(size)}
    moves = {}
    share = rng.choice([0.0, 0.05, 0.2, 0.6, 1.0])
    for p in origins:
        if rng.random() < share:
            k = rng.randint(0, 4)
            ms = sorted(
                (
                    dt.date(2018, 6, 1) + dt.timedelta(days=rng.randrange(0, 3000)),
                    rng.choice(KINDS),
                    rng.choice((*SCOPES, "elsewhere")),
                )
                for _ in range(k)
            )
            moves[p] = [Move(*m) for m in ms]
    if rng.random() < 0.3:  # moves of someone outside the group, and an empty list
        moves["outsider"] = [Move(view - dt.timedelta(days=3), "transfer", SCOPES[0])]
        if origins:
            moves[next(iter(origins))] = []
    minimum = rng.choice([1, 3, 5, 10])
    return origins, moves, view, minimum


@pytest.mark.parametrize("seed", sorted(PER_PERSON))
def test_counting_the_unmoved_changes_no_figure(seed: int) -> None:
    origins, moves, view, minimum = case(seed)
    figures: Any = group_figures(origins, moves, view, minimum)
    digest = hashlib.sha256(json.dumps(figures, sort_keys=True, default=str).encode())
    assert digest.hexdigest()[:16] == PER_PERSON[seed], (seed, len(origins), len(moves))
