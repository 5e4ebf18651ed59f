"""The workspace's languages: Finnish, Swedish and English, chosen and remembered.

The language is the one the switcher last set (the cookie ``polku_lang``, a year), else the
best match of the browser's ``Accept-Language``, else English. Numbers, percentages and dates
are formatted by babel for that locale. The message catalogues are ``translations/<lang>/
LC_MESSAGES/messages.po`` in the repository; their compiled ``.mo`` files are made at install
(``scripts/bootstrap.sh``) and, if missing or older than the ``.po``, when the app is built.
Labels that come with the data (department names, the demo's labels) are shown as they are.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, format_date, format_decimal, format_percent, get_locale
from flask_babel import gettext as _

log = logging.getLogger("polku.workspace")

LANGUAGES = ("fi", "sv", "en")
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
LANGUAGE_COOKIE = "polku_lang"
TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_MINIMUM = 5
"""Tracking's default minimum group size, should a reason not name its minimum."""


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def compile_catalogues(folder: Path = TRANSLATIONS) -> list[Path]:
    """Compiles every ``messages.po`` whose ``.mo`` is missing or older; returns those made."""
    made = []
    for po in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source, locale=po.parent.parent.name)
        try:
            with mo.open("wb") as target:
                write_mo(target, catalogue)
        except OSError as exc:  # a read-only install: it should have been compiled at install
            log.warning("cannot compile %s (%s); that language falls back to English", po, exc)
            continue
        made.append(mo)
    return made


def install(app: Flask) -> None:
    compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(number=number, percent=percent, day=day, signed=signed)
    app.context_processor(
        lambda: {
            "lang": str(get_locale() or "en"),
            "language_names": LANGUAGE_NAMES,
            "role_name": role_name,
            "status_name": status_name,
            "fewer_than": fewer_than,
        }
    )


def role_name(role: str) -> str:
    names = {
        "hr_admin": _("HR administrator"),
        "coordinator": _("Coordinator"),
        "coach": _("Coach"),
        "auditor": _("Auditor"),
        "participant": _("Participant"),
    }
    return str(names.get(role, role))


def status_name(status: str) -> str:
    names = {
        "planned": _("planned"),
        "open": _("open"),
        "running": _("running"),
        "completed": _("completed"),
        "cancelled": _("cancelled"),
        "enrolled": _("enrolled"),
        "withdrawn": _("withdrawn"),
    }
    return str(names.get(status, status))


_MINIMUM = re.compile(r"fewer than (\d+)")


def fewer_than(cell: Mapping[str, Any]) -> str:
    """What a suppressed cell reads: "fewer than 5" (the minimum its reason names)."""
    found = _MINIMUM.search(str(cell.get("reason") or ""))
    return str(_("fewer than %(n)s", n=found.group(1) if found else DEFAULT_MINIMUM))


def number(value: Any, digits: int = 2) -> str:
    """A number in the locale's notation (decimal comma in fi and sv), ``digits`` decimals."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(format_decimal(value, format="#,##0"))
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return str(format_decimal(value, format=pattern))


def signed(value: Any, digits: int = 2) -> str:
    text = number(value, digits)
    return f"+{text}" if isinstance(value, int | float) and value > 0 else text


def percent(value: Any, digits: int = 0) -> str:
    """A share (0..1) as the locale writes percentages."""
    if value is None:
        return ""
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    return str(format_percent(value, format=pattern))


def day(value: Any) -> str:
    """An ISO date or moment as the locale writes a date."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return str(value)
    return str(format_date(value, format="medium"))
