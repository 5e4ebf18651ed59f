"""``polku keys``: looking after the key store of personal-data keys.

``polku keys reconcile`` deletes the keys of everyone erased that the key store still holds. Run
it after restoring the key store from a backup: the backup predates some erasures, and their
keys came back with it (docs/privacy.md, section 4).
"""

from __future__ import annotations

import click


@click.group(name="keys")
def keys_group() -> None:
    """Look after the key store of personal-data keys."""


@keys_group.command(name="reconcile")
def reconcile() -> None:
    """Delete the keys of erased people that a restored key store brought back."""
    from services import runtime
    from services.cli import load_settings, reachable

    settings = load_settings()
    with reachable(settings):
        service = runtime.build_write_service(settings, "enrolment")
    try:
        forgotten = service.application.forget_erased_keys()
    finally:
        service.close()
    click.echo(f"deleted {forgotten} key(s) of erased people")
