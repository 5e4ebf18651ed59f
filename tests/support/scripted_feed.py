"""A feed that hands out prepared polls, for projector tests without a log or a broker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.feeds import Key, Poll


@dataclass
class ScriptedFeed:
    """Hands out prepared polls, as a feed would; nothing to acknowledge."""

    polls: list[Poll]
    kind: str = "scripted"
    waits_for_events: bool = False

    def poll(self, positions: Mapping[Key, int], max_records: int) -> Poll:
        return self.polls.pop(0) if self.polls else Poll()

    def commit(self, poll: Poll) -> None:
        pass

    def heads(self) -> dict[Key, int]:
        return {}

    def close(self) -> None:
        pass
