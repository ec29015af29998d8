"""The per-app emulator instance (store + webhook deliverer) and JSON response helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Response, current_app

from .store import JSON, Store, new_id
from .webhooks import Deliverer


@dataclass
class Emulator:
    """What one Flask app instance of the emulator owns."""

    store: Store
    deliverer: Deliverer


def current() -> Emulator:
    emulator = current_app.extensions["stripe_emulator"]
    assert isinstance(emulator, Emulator)
    return emulator


def request_id() -> str:
    return new_id("req_", 14)


def json_response(body: JSON | list[JSON], status: int = 200) -> Response:
    return Response(json.dumps(body, indent=2) + "\n", status=status,
                    mimetype="application/json")
