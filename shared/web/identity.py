"""Who is signed in to a browser session: the identity any sign-in method reports.

:class:`Identity` is what the development page and single sign-on both hand to
:func:`shared.web.sessions.sign_in`; it also says which role and subject the session's API
tokens carry.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from shared.auth import ROLES

ROLE_PRECEDENCE = ("hr_admin", "coordinator", "auditor", "coach", "participant")
"""The role a session acts in when an identity holds several: the first of these it holds."""


class IdentityError(ValueError):
    """An identity that cannot be signed in; the message says what is wrong with it."""


@dataclass(frozen=True)
class Identity:
    """Who is signed in, as any sign-in method reports them.

    ``roles`` may hold names Polku does not know (an identity provider's defaults such as
    ``offline_access``); they are ignored, but at least one of Polku's roles must be there.
    ``person_id`` is the pseudonymous id of a participant (required for that role): a
    participant sees only that person. ``expires_at`` bounds the session (timezone-aware).
    ``provider`` names the sign-in method: ``dev`` or, for single sign-on, the issuer's name.
    """

    subject: str
    roles: tuple[str, ...]
    display_name: str
    expires_at: dt.datetime
    provider: str
    person_id: str | None = None
    access_token: str | None = field(default=None, repr=False)
    """Single sign-on: the issuer's access token, which the pages present to the API (its
    expiry is the session's); None: the pages mint a development token."""
    id_token: str | None = field(default=None, repr=False)
    """Single sign-on: the ID token, the hint of the logout at the issuer."""

    def __post_init__(self) -> None:
        if not isinstance(self.subject, str) or not self.subject.strip():
            raise IdentityError("the identity has no subject")
        if not any(role in ROLE_PRECEDENCE for role in self.roles):
            raise IdentityError(
                f"the identity holds none of Polku's roles ({', '.join(ROLE_PRECEDENCE)}); "
                f"it has {', '.join(self.roles) or 'none'}"
            )
        if self.expires_at.tzinfo is None:
            raise IdentityError("the identity's expires_at must be timezone-aware")
        if self.role == "participant" and not self.person_id:
            raise IdentityError("a participant's identity needs the person_id it may see")
        if not self.provider:
            raise IdentityError("the identity must name its provider")

    @property
    def role(self) -> str:
        """The one Polku role this session acts in (see :data:`ROLE_PRECEDENCE`)."""
        return next(role for role in ROLE_PRECEDENCE if role in self.roles)

    @property
    def bearer_subject(self) -> str:
        """The subject of the API tokens minted for this identity: a participant's person id
        (the API lets participants read only the person named by their token's subject)."""
        if self.role == "participant":
            assert self.person_id is not None
            return self.person_id
        return self.subject

    def to_json(self) -> str:
        return json.dumps(
            {
                "subject": self.subject,
                "roles": list(self.roles),
                "display_name": self.display_name,
                "expires_at": self.expires_at.isoformat(),
                "provider": self.provider,
                "person_id": self.person_id,
                "access_token": self.access_token,
                "id_token": self.id_token,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Identity:
        data = json.loads(text)
        return cls(
            subject=data["subject"],
            roles=tuple(data["roles"]),
            display_name=data["display_name"],
            expires_at=dt.datetime.fromisoformat(data["expires_at"]),
            provider=data["provider"],
            person_id=data.get("person_id"),
            access_token=data.get("access_token"),
            id_token=data.get("id_token"),
        )


assert set(ROLE_PRECEDENCE) <= set(ROLES)
