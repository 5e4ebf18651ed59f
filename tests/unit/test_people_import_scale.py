"""The people import at scale: work linear in the rows, and other registrations let in.

Linearity is asserted by counting, never by timing: the key store's SQL statements and the
comparisons of blind indexes, for a file and for one twice its size.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.enrolment.application import EnrolmentApplication
from services.enrolment.domain.people import EmployeeNumberTaken
from services.enrolment.imports import import_people
from services.enrolment.keystore import KeyStore, SqlKeyStore
from services.enrolment.keywrap import LocalKeyWrapper
from shared.imports import ImportInterrupted, read_table
from shared.settings import Settings
from shared.sql import Cursor, Database
from tests.unit.factories import meta

HEADER = "full_name,email,employee_number,organisation,department,unit"
WAIT = 30.0
"""Seconds a test waits for another thread before calling it stuck (never a speed claim)."""


def people_csv(count: int, prefix: str = "E") -> str:
    rows = [f"P {n},p{n}@example.fi,{prefix}-{n},TEM,Innovation,Digital" for n in range(count)]
    return "\n".join([HEADER, *rows])


class Compared(str):
    """A blind index that counts how often it is compared for equality."""

    count = 0

    def __eq__(self, other: object) -> bool:
        Compared.count += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class CountingDatabase(Database):
    """Counts the statements every transaction runs."""

    statements = 0

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        with super().transaction(write=write) as cur:
            yield _Counting(cur, self)


class _Counting:
    def __init__(self, cur: Cursor, database: CountingDatabase) -> None:
        self._cur, self._database = cur, database

    def execute(self, sql: str, params: Any = ()) -> Any:
        self._database.statements += 1
        return self._cur.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        self._database.statements += 1
        return self._cur.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class ComparedKeyStore(SqlKeyStore):
    def blind(self, value: str) -> str:
        return Compared(super().blind(value))


def measured_import(settings: Settings, tmp_path: Path, rows: int) -> tuple[int, int]:
    """(key-store statements, blind-index comparisons) of importing ``rows`` new people."""
    database = CountingDatabase(f"sqlite:///{tmp_path / f'keys-{rows}.sqlite'}", secure_delete=True)
    keys = ComparedKeyStore(database, LocalKeyWrapper(b"k" * 32), owns_database=True)
    env = {**settings.eventstore_env("enrolment"), "SQLITE_DBNAME": str(tmp_path / f"{rows}.db")}
    app = EnrolmentApplication(env, keystore=keys)
    try:
        database.statements, Compared.count = 0, 0
        result = import_people(app, read_table(people_csv(rows)), meta())
        assert result.recorded == rows
        return database.statements, Compared.count
    finally:
        app.close()
        keys.close()


def test_an_import_does_key_store_work_linear_in_its_rows(
    settings: Settings, tmp_path: Path
) -> None:
    small_statements, small_compared = measured_import(settings, tmp_path, 400)
    statements, compared = measured_import(settings, tmp_path, 800)
    # Twice the rows, at most about twice the work (a count per row made it four times).
    assert statements <= 2 * small_statements + 4
    assert compared <= 2.2 * small_compared + 50
    assert compared <= 5 * 800


@pytest.fixture
def app(settings: Settings, keystore: KeyStore) -> Iterator[EnrolmentApplication]:
    application = EnrolmentApplication(settings.eventstore_env("enrolment"), keystore=keystore)
    yield application
    application.close()


@pytest.fixture
def keystore(tmp_path: Path) -> Iterator[KeyStore]:
    database = Database(f"sqlite:///{tmp_path / 'keys.sqlite'}", secure_delete=True)
    keys = SqlKeyStore(database, LocalKeyWrapper(b"k" * 32), owns_database=True)
    yield keys
    keys.close()


def test_a_registration_goes_in_between_the_chunks_of_an_import(
    app: EnrolmentApplication,
) -> None:
    """The import pauses after its first chunk; a registration made meanwhile completes."""
    paused, resume = threading.Event(), threading.Event()
    done: list[int] = []

    def progress(rows: int) -> None:
        done.append(rows)
        if sum(done) == 6 + 2:  # every row checked, then the first chunk of 2 saved
            paused.set()
            resume.wait(WAIT)

    importer = threading.Thread(
        target=import_people,
        args=(app, read_table(people_csv(6)), meta()),
        kwargs={"progress": progress, "chunk_rows": 2},
    )
    importer.start()
    assert paused.wait(WAIT)
    registrar = threading.Thread(
        target=app.register_person,
        args=(
            {
                "full_name": "Other",
                "email": "o@example.fi",
                "employee_number": "X-1",
                "organisation": "TEM",
                "department": "D",
                "unit": "U",
            },
            meta(),
        ),
    )
    registrar.start()
    registrar.join(WAIT)
    registered_while_paused = not registrar.is_alive()
    resume.set()
    importer.join(WAIT)
    assert registered_while_paused
    assert not importer.is_alive()
    numbers = [r.employee_number for r in app.people(0, 100)[0]]
    assert numbers == ["E-0", "E-1", "X-1", "E-2", "E-3", "E-4", "E-5"]


def test_an_imports_numbers_are_all_reserved_before_anything_is_saved(
    app: EnrolmentApplication,
) -> None:
    """A number of the last chunk registered meanwhile refuses the import, nothing saved."""
    keys = app.personal_data.keys
    original = app.reserve_numbers
    calls: list[int] = []

    def racing(entries: Any, added_at: float | None = None) -> None:
        calls.append(len(entries))
        if len(calls) == 3:
            app.register_person(
                {
                    "full_name": "Fast",
                    "email": "f@example.fi",
                    "employee_number": "E-5",
                    "organisation": "TEM",
                    "department": "D",
                    "unit": "U",
                },
                meta(),
            )
        original(entries, added_at)

    app.reserve_numbers = racing  # type: ignore[method-assign]
    with pytest.raises(EmployeeNumberTaken):
        import_people(app, read_table(people_csv(6)), meta(), chunk_rows=2)
    assert len(app.people(0, 100)[0]) == 1
    held = keys.find([keys.blind(f"E-{n}") for n in range(5)])
    assert held == {}


def test_a_store_failing_midway_keeps_whole_chunks_and_a_rerun_records_the_rest(
    app: EnrolmentApplication,
) -> None:
    original = app.save_all
    saves: list[int] = []

    def failing(*people: Any) -> None:
        saves.append(len(people))
        if len(saves) == 2:
            raise OSError("disk full")
        original(*people)

    app.save_all = failing  # type: ignore[method-assign]
    with pytest.raises(ImportInterrupted) as interrupted:
        import_people(app, read_table(people_csv(6)), meta(), chunk_rows=2)
    assert (interrupted.value.saved, interrupted.value.rows) == (2, 6)
    keys = app.personal_data.keys
    assert len(keys.find([keys.blind(f"E-{n}") for n in range(6)])) == 2
    app.save_all = original  # type: ignore[method-assign]
    again = import_people(app, read_table(people_csv(6)), meta(), chunk_rows=2)
    assert (again.recorded, again.unchanged) == (4, 2)
    assert len(app.people(0, 100)[0]) == 6
