"""A feed that hands out prepared polls, for projector tests without a log or a broker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.feeds import ElsewhereFeed, Key, Poll


@dataclass
class ScriptedFeed(ElsewhereFeed):
    """Hands out prepared polls, as a feed would; with ``log``, records each acknowledgement
    there, in order (heads and close are the idle feed's)."""

    polls: list[Poll]
    log: list[str] | None = None
    kind: str = "scripted"

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        return self.polls.pop(0) if self.polls else Poll()

    def commit(self, poll: Poll) -> None:
        if self.log is not None:
            self.log.append("offsets committed")
