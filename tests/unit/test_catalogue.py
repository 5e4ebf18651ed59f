"""The committed event catalogue matches the registry, and `polku events` prints both forms."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from services.cli import main
from shared.events import default_registry, restricted_registry
from shared.events.assessment_public import SENSITIVE
from shared.events.catalogue import as_markdown

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_the_committed_catalogue_is_current() -> None:
    assert CATALOGUE.read_text() == as_markdown(default_registry(), restricted_registry()), (
        "docs/events.md is stale: run `polku events > docs/events.md`"
    )


def test_every_type_and_field_is_in_the_catalogue() -> None:
    text = as_markdown(default_registry(), restricted_registry())
    for event_type in default_registry():
        assert f"`{event_type.type}` (version {event_type.version})" in text
        for name in event_type.instance.fields:
            assert f"| `{name}` |" in text


def test_the_catalogue_lists_the_restricted_forms_after_the_public_ones() -> None:
    text = as_markdown(default_registry(), restricted_registry())
    public, restricted = text.split("## Restricted channel")
    for type_ in SENSITIVE:
        assert f"`{type_}` (version 2)" in public
        assert f"`{type_}` (version 1, restricted)" in restricted
    assert "| `scores` |" not in public and "| `comments` |" not in public
    assert "| `scores` |" in restricted and "| `comments` |" in restricted


def test_polku_events_prints_json_for_tools() -> None:
    result = CliRunner().invoke(main, ["events", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {entry["type"] for entry in listed} == {t.type for t in default_registry()}
    restricted = {e["type"] for e in listed if e["channel"] == "restricted"}
    assert restricted == set(SENSITIVE)
    enrolled = next(e for e in listed if e["type"].endswith("ParticipantEnrolled"))
    assert {"name": "person_id", "type": "string (uuid)", "required": True} in enrolled["data"]
