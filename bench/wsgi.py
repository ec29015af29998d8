"""The two WSGI apps the served benchmarks start under gunicorn: the shop, and a bare hello."""

from __future__ import annotations

import json
import logging
import os

from flask import Flask


def shop_app() -> Flask:
    """The shop with the settings bench.served prepared (JSON in BENCH_SHOP_CONFIG)."""
    from shop import create_app

    logging.disable(logging.INFO)  # one log line per webhook would be measured too
    return create_app(json.loads(os.environ["BENCH_SHOP_CONFIG"]))


def hello_app() -> Flask:
    """The baseline: Flask's hello world, nothing else."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app
