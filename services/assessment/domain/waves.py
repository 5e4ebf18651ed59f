"""Waves: when in a programme something was measured.

A wave is ``baseline``, ``midpoint``, ``post``, ``follow_up`` (with the months after the
programme) or ``custom`` (with a label). Its *key* (``follow_up:6``, ``custom:spring check``) is
what makes two measurements the same wave.
"""

from __future__ import annotations

from typing import NamedTuple

from shared.errors import RuleViolation

WAVES = ("baseline", "midpoint", "post", "follow_up", "custom")


class WaveInvalid(RuleViolation):
    pass


class Wave(NamedTuple):
    name: str
    follow_up_months: int | None = None
    label: str | None = None

    @classmethod
    def of(cls, name: str, follow_up_months: int | None = None, label: str | None = None) -> Wave:
        if name not in WAVES:
            raise WaveInvalid(f"wave must be one of {', '.join(WAVES)}", field="wave")
        if name == "follow_up":
            if follow_up_months is None or not 1 <= follow_up_months <= 600:
                raise WaveInvalid(
                    "a follow-up wave needs follow_up_months from 1 to 600",
                    field="follow_up_months",
                )
        elif follow_up_months is not None:
            raise WaveInvalid("only a follow-up wave has months", field="follow_up_months")
        if name == "custom":
            if not label or not label.strip():
                raise WaveInvalid("a custom wave needs a wave_label", field="wave_label")
        elif label is not None:
            raise WaveInvalid("only a custom wave has a label", field="wave_label")
        return cls(name, follow_up_months, label.strip() if label else None)

    @property
    def key(self) -> str:
        if self.name == "follow_up":
            return f"follow_up:{self.follow_up_months}"
        if self.name == "custom":
            return f"custom:{self.label}"
        return self.name

    @classmethod
    def from_key(cls, key: str) -> Wave:
        name, _, rest = key.partition(":")
        if name == "follow_up":
            return cls.of(name, int(rest) if rest.isdigit() else None)
        if name == "custom":
            return cls.of(name, label=rest)
        return cls.of(name)
