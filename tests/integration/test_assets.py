"""Static files under content-hashed names with a year's cache; compressed responses."""

from __future__ import annotations

import gzip
import re

from flask import Flask
from flask.testing import FlaskClient

STYLESHEET = re.compile(r'href="(/static/shop\.([0-9a-f]{12})\.css)"')


def test_pages_link_hashed_files_that_are_cached_for_a_year(
    app: Flask, client: FlaskClient
) -> None:
    html = client.get("/").get_data(as_text=True)
    match = STYLESHEET.search(html)
    assert match, "the stylesheet is not linked under a hashed name"
    response = client.get(match.group(1))
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable and response.cache_control.public
    assert b"--accent" in response.get_data()
    # Every picture on the page is hashed too.
    assert re.search(r'src="/static/img/winter-hero\.[0-9a-f]{12}\.svg"', html)
    assert re.search(r'src="/static/img/catalog/single-package\.[0-9a-f]{12}\.svg"', html)


def test_a_changed_file_gets_a_new_name_and_an_old_name_is_not_kept(
    app: Flask, client: FlaskClient, tmp_path: object
) -> None:
    digests = app.extensions["static_digests"]
    old = client.get("/").get_data(as_text=True)
    [(old_url, old_digest)] = STYLESHEET.findall(old)
    stale = old_url.replace(old_digest, "0" * 12)
    response = client.get(stale)
    # A page rendered before a deploy still gets the stylesheet, but only for now.
    assert response.status_code == 200 and b"--accent" in response.get_data()
    assert not response.cache_control.immutable and not response.cache_control.max_age
    assert digests.digest("shop.css") == old_digest
    assert client.get("/static/no-such-file.0123456789ab.css").status_code == 404


def test_donor_pages_and_files_are_compressed_staff_pages_are_not(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"Keep a soldier warm" in gzip.decompress(page.get_data())
    stylesheet = STYLESHEET.search(gzip.decompress(page.get_data()).decode())
    assert stylesheet is not None
    css_url = stylesheet.group(1)
    css = client.get(css_url, headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert len(css.get_data()) < len(gzip.decompress(css.get_data())) / 2
    # Staff pages echo searches beside a CSRF token: never compressed (BREACH).
    login = client.get("/staff/login", headers={"Accept-Encoding": "gzip"})
    assert login.status_code == 200 and "Content-Encoding" not in login.headers
