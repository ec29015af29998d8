"""Words the shop says in several places, spelled for the LOCALE setting.

Strings are marked with Flask-Babel's gettext (`_()` in templates) in American English,
the default locale; other locales are catalogs under shop/translations
(`make translations` extracts, updates and compiles them).
"""

from __future__ import annotations

from flask_babel import get_locale, gettext


def dedication_words(kind: str | None, *, start: bool = True) -> str:
    """"In honor of" / "In memory of" ("in ..." when `start` is false) for a dedication kind."""
    words: str
    if kind == "memory":
        words = gettext("In memory of") if start else gettext("in memory of")
    else:
        words = gettext("In honor of") if start else gettext("in honor of")
    return words


def html_lang() -> str:
    """The page's language tag for `<html lang>`: "en-US" for the locale en_US."""
    locale = get_locale()
    return str(locale).replace("_", "-") if locale is not None else "en"
