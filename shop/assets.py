"""Static files under content-hashed names with a year's cache, and compressed responses.

`url_for("static", filename="css/shop.css")` gives `/static/css/shop.<12 hex>.css` in every
template without anything to remember: the digest is the file's own SHA-256, so a changed
file gets a new name and browsers may keep each name for a year (`immutable`). There is no
build step and no generated file to forget; nginx serves the same names with one rewrite
(see the README). A name whose digest is stale (a page rendered before a deploy) still gets
the current file, but with a short cache, so nothing breaks and nothing wrong is kept.

Responses are compressed with Flask-Compress (zstd, brotli or gzip, as the browser
accepts). Staff pages are left uncompressed: they echo what staff search for beside a
CSRF token, the mix a BREACH attack needs; donor pages echo nothing a third party sends.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, request, send_from_directory, url_for
from flask_compress import Compress
from werkzeug.security import safe_join

ONE_YEAR = 365 * 24 * 3600
DIGEST_LENGTH = 12
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")

COMPRESSED_TYPES = ["text/html", "text/css", "image/svg+xml", "text/javascript",
                    "application/javascript", "text/plain"]
UNCOMPRESSED_BLUEPRINTS = frozenset({"staff"})

compress = Compress()


@dataclass
class StaticDigests:
    """The digest of each file in one static folder, recomputed when the file changes."""

    folder: str
    _known: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    def digest(self, filename: str) -> str | None:
        """The first 12 hex digits of the file's SHA-256, or None when there is no file."""
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        known = self._known.get(filename)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:DIGEST_LENGTH]
        self._known[filename] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    def hashed_name(self, filename: str) -> str:
        """`css/shop.css` -> `css/shop.3f2a1c9e4b7d.css`; unknown files keep their name."""
        digest = self.digest(filename)
        if digest is None or _HASHED.match(filename):
            return filename
        stem, dot, suffix = filename.rpartition(".")
        if not dot or "/" in suffix:
            return f"{filename}.{digest}"
        return f"{stem}.{digest}.{suffix}"

    def resolve(self, filename: str) -> tuple[str, bool]:
        """The real file a requested name means, and whether the name's digest is current."""
        match = _HASHED.match(filename)
        if match is None:
            return filename, False
        real = match["stem"] + match["suffix"]
        return real, self.digest(real) == match["digest"]


def image_url(path: str | None) -> str:
    """Where a catalog picture is: a static file under its hashed name, or the address given.

    `path` is a path under the static folder ("img/catalog/x.svg"), a path from the site's
    root ("/media/x.jpg") or an https:// address; "" gives "".
    """
    if not path:
        return ""
    if path.startswith(("https://", "http://", "/")):
        return path
    return url_for("static", filename=path)


def init_assets(app: Flask) -> None:
    """Serve the static folder under hashed names and compress donor-facing responses."""
    assert app.static_folder is not None
    digests = StaticDigests(app.static_folder)
    app.extensions["static_digests"] = digests

    @app.url_defaults
    def _hashed_static_names(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and isinstance(values.get("filename"), str):
            values["filename"] = digests.hashed_name(values["filename"])

    def serve_static(filename: str) -> Response:
        real, current = digests.resolve(filename)
        response = send_from_directory(digests.folder, real, max_age=ONE_YEAR if current else 0)
        if current:
            response.cache_control.public = True
            response.cache_control.immutable = True
        # Read the (small) file now, so it is compressed whole with its length known.
        if response.status_code == 200:
            response.direct_passthrough = False
            response.make_sequence()
        return response

    app.view_functions["static"] = serve_static

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_REGISTER", False)
    compress.init_app(app)

    @app.after_request
    def _compress(response: Response) -> Response:
        if request.blueprint in UNCOMPRESSED_BLUEPRINTS:
            return response
        return compress.after_request(response)
