"""``polku import``: bulk imports from CSV exports, straight into a write service's store.

Each subcommand reads the file, lets the owning service check every row and then write all of
them or none, shows progress, and prints a row-by-row report. Importing the same file twice
records nothing twice. The HTTP endpoints behind the same functions are documented in OpenAPI.
"""

from __future__ import annotations

import getpass
import sys
import uuid
from collections.abc import Callable
from typing import IO, Any, NoReturn

import click

from shared.imports import ImportRejected, ImportResult, Table, read_table

ImportFunction = Callable[..., ImportResult]


@click.group(name="import")
def import_group() -> None:
    """Import people, assessment results or staff-survey results from CSV files.

    Every row is checked before anything is written; if any row is wrong, nothing is imported
    and each problem is listed with its row number (the header is row 1). Exit status: 0 when
    imported (or checked, with --dry-run), 1 when the file was refused.
    """


def cli_meta() -> dict[str, str]:
    """Who imported: the operating-system user, as the actor of every event recorded."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "unknown"
    return {"actor_sub": f"cli:{user}", "actor_role": "cli", "correlation_id": str(uuid.uuid4())}


def run_import_command(
    service: str,
    function: ImportFunction,
    file: IO[str],
    *,
    dry_run: bool,
    prepare: Callable[[Any, Any], dict[str, Any]] | None = None,
    **options: Any,
) -> None:
    """Runs one import against ``service``'s store, with a progress bar and a final report."""
    from services import runtime
    from services.cli import load_settings, reachable

    settings = load_settings()
    try:
        table = read_table(file.read())
    except ImportRejected as rejected:
        _report_rejection(rejected)
    with reachable(settings):
        write = runtime.build_write_service(settings, service)
    try:
        if prepare is not None:
            options = {**options, **prepare(settings, write)}
        result = _with_progress(table, function, write.application, dry_run, options)
    except ImportRejected as rejected:
        _report_rejection(rejected)
    finally:
        write.close()
    verb = "would record" if result.dry_run else "recorded"
    click.echo(
        f"{result.rows} rows: {verb} {result.recorded}, already present {result.unchanged}"
        + (" (dry run: nothing was written)" if result.dry_run else "")
    )


def _with_progress(
    table: Table, function: ImportFunction, application: Any, dry_run: bool, options: Any
) -> ImportResult:
    total = 2 * len(table.rows)  # each row is checked, then written
    label = f"importing {len(table.rows)} rows"
    bar: Any = click.progressbar(length=total, label=label, file=sys.stderr)
    with bar:
        result = function(
            application, table, cli_meta(), dry_run=dry_run, progress=bar.update, **options
        )
        bar.update(total - bar.pos)
    return result


def _report_rejection(rejected: ImportRejected) -> NoReturn:
    for problem in rejected.result.problems:
        where = f"row {problem.row}" if problem.row else "file"
        column = f", {problem.column}" if problem.column else ""
        click.echo(f"{where}{column}: {problem.message}", err=True)
    raise click.ClickException(rejected.message)


# The subcommands: one per import, each delegating to the owning service's import function.


@import_group.command(name="people")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_people_command(file: IO[str], dry_run: bool) -> None:
    """Register people from an HR register extract; people already registered (by employee
    number) are left as they are, so a re-run registers no one twice.

    Columns: full_name, email, employee_number, organisation, department, unit, and optionally
    role, profession_category, education_level ("Name", "E-mail", "Employee number" also work).
    """
    from services.enrolment.imports import import_people

    run_import_command("enrolment", import_people, file, dry_run=dry_run)


def _mapping(file: IO[str]) -> dict[str, Any]:
    """The JSON mapping file of an assessment import: which column holds what."""
    import json

    try:
        mapping = json.load(file)
    except ValueError as exc:
        raise click.ClickException(f"{file.name} is not JSON: {exc}") from None
    if not isinstance(mapping, dict):
        raise click.ClickException(f"{file.name} must hold a JSON object")
    return mapping


@import_group.command(name="results")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--instrument", "instrument_id", required=True, help="The instrument's id.")
@click.option("--mapping", required=True, type=click.File("r"), help="JSON: columns to dimensions.")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_results_command(
    file: IO[str], instrument_id: str, mapping: IO[str], dry_run: bool
) -> None:
    """Import assessment results from a survey tool's CSV export (one result per row).

    A person or cohort that enrolment never registered is a problem of its row, as over HTTP.
    """
    from services.assessment.imports import import_results

    run_import_command(
        "assessment",
        import_results,
        file,
        dry_run=dry_run,
        prepare=_known_ids,
        instrument_id=instrument_id,
        mapping=_mapping(mapping),
    )


def _known_ids(settings: Any, write: Any) -> dict[str, Any]:
    """Assessment's reference of enrolment's people and cohorts, for the import to check ids.

    Embedded (no Kafka, no enrolment URL), it is first brought up to date from enrolment's log
    in the same data directory; otherwise it is as the running assessment service's follower
    keeps it.
    """
    from services import runtime
    from services.assessment.scope import ScopeFollower
    from services.enrolment.keystore_setup import InMemoryKeyStore
    from shared.events import default_registry
    from shared.feeds import OutboxFeed
    from shared.outbox import Outbox

    if not settings.kafka_bootstrap_servers and "enrolment" not in settings.service_urls:
        app_class, translate, _ = runtime.APPLICATIONS["enrolment"]
        # Enrolment's log is only read and mapped here, never a personal field opened: no key
        # store is needed (an empty one in memory, so nothing is made beside the data).
        enrolment = app_class(settings.eventstore_env("enrolment"), keystore=InMemoryKeyStore())
        try:
            outbox = Outbox("enrolment", enrolment, translate, default_registry())
            feed = OutboxFeed({"enrolment": outbox})
            ScopeFollower(write.scope, feed, default_registry()).drain()
        finally:
            enrolment.close()
    return {"known": write.scope}


@import_group.command(name="staff-survey")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--instrument", "instrument_id", required=True, help="The instrument's id.")
@click.option("--mapping", required=True, type=click.File("r"), help="JSON: columns to indices.")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
def import_staff_survey_command(
    file: IO[str], instrument_id: str, mapping: IO[str], dry_run: bool
) -> None:
    """Import staff-survey results (one organisation, department or unit per row)."""
    from services.assessment.imports import import_staff_survey

    run_import_command(
        "assessment",
        import_staff_survey,
        file,
        dry_run=dry_run,
        instrument_id=instrument_id,
        mapping=_mapping(mapping),
    )
