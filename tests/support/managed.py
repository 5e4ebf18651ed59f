"""What the test servers (Kafka, PostgreSQL, Keycloak) share: ``with Server() as s``."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Managed:
    """A server started by ``start()`` and stopped by ``close()``, usable as a context manager."""

    def start(self) -> Self:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
