"""Services starting together against one fresh PostgreSQL database all come up."""

from __future__ import annotations

import threading
from pathlib import Path

from services.runtime import build_tracking, build_write_service
from shared.feeds import ElsewhereFeed
from shared.settings import Settings


def test_processes_creating_the_schema_at_once_do_not_collide(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    # docker-compose starts an API, its relay and the projector at the same moment; each
    # creates the tables it needs. Without serialising that, one of them fails at random.
    settings = Settings(data_dir=tmp_path, database_url=fresh_postgres_url)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def start(kind: str) -> None:
        try:
            barrier.wait(timeout=30)
            if kind == "tracking":
                build_tracking(settings, feed=ElsewhereFeed("none")).close()
            else:
                service = build_write_service(settings, "enrolment")
                service.relay(settings, producer=object())
                service.close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    kinds = ["enrolment", "enrolment", "enrolment", "enrolment", "tracking", "tracking"]
    threads = [threading.Thread(target=start, args=(kind,)) for kind in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t for t in threads if t.is_alive()], "a start-up is stuck (a lock never released?)"
    assert errors == []
