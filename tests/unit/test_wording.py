"""Wording follows the LOCALE setting; the compiled catalogs match their sources."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from shop import create_app
from shop.wording import dedication_words

TRANSLATIONS = Path(__file__).resolve().parents[2] / "shop" / "translations"


@pytest.mark.parametrize(("locale", "honor", "tag"), [
    ("en_US", "In honor of", "en-US"), ("en_GB", "In honour of", "en-GB"),
])
def test_dedications_are_spelled_for_the_locale(locale: str, honor: str, tag: str,
                                                tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "LOCALE": locale,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.db'}"})
    with app.test_request_context("/donate"):
        assert dedication_words("honor") == honor
        assert dedication_words("honor", start=False) == honor.lower()
        assert dedication_words("memory") == "In memory of"
    with app.app_context():
        from shop.extensions import db

        db.create_all()
    html = app.test_client().get("/donate").get_data(as_text=True)
    assert f'<html lang="{tag}">' in html
    assert f"{honor} someone" in html


def test_each_compiled_catalog_matches_its_source() -> None:
    sources = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert sources, "no translations"
    for source in sources:
        with source.open("rb") as f:
            catalog = read_po(f)
        fresh = io.BytesIO()
        write_mo(fresh, catalog)
        with source.with_suffix(".mo").open("rb") as f:
            compiled = read_mo(f)
        fresh.seek(0)
        expected = read_mo(fresh)
        assert _strings(compiled) == _strings(expected), f"{source} changed: make translations"


def _strings(catalog: Catalog) -> dict[object, object]:
    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}
