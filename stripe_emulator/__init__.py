"""A local stand-in for the Stripe v1 API (Checkout, refunds, disputes, subscriptions, webhooks)."""

from __future__ import annotations

import threading
from types import TracebackType

from flask import Flask, Response, g, request
from werkzeug.serving import BaseWSGIServer, make_server

from . import api, control, endpoints, hosted
from .runtime import Emulator, request_id
from .store import EmulatorConfig, Store
from .webhooks import Deliverer

__all__ = ["EmulatorConfig", "EmulatorServer", "Store", "create_app"]


def create_app(config: EmulatorConfig | None = None) -> Flask:
    """A Flask app serving /v1 (Stripe API), /c/pay (hosted checkout) and /_emulator (control)."""
    app = Flask("stripe_emulator")
    store = Store(config or EmulatorConfig())
    endpoints.sync_default(store)
    deliverer = Deliverer(store)
    deliverer.start()
    app.extensions["stripe_emulator"] = Emulator(store, deliverer)
    app.register_blueprint(api.bp)
    app.register_blueprint(hosted.bp)
    app.register_blueprint(control.bp)

    @app.before_request
    def _assign_request_id() -> None:
        g.request_id = request_id()

    @app.after_request
    def _stamp(resp: Response) -> Response:
        resp.headers["Request-Id"] = g.get("request_id") or request_id()
        if request.path.startswith("/v1/"):
            resp.headers["Stripe-Version"] = request.headers.get(
                "Stripe-Version", store.config.api_version)
        return resp

    return app


class EmulatorServer:
    """Runs the emulator on 127.0.0.1 in a background thread (port 0 picks a free port)."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.app = create_app(self.config)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def emulator(self) -> Emulator:
        emulator = self.app.extensions["stripe_emulator"]
        assert isinstance(emulator, Emulator)
        return emulator

    @property
    def state(self) -> Store:
        """The live in-memory store (objects, events, attempts, config) for assertions."""
        return self.emulator.store

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self.emulator.deliverer.start()
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="stripe-emulator-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.emulator.deliverer.stop()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
