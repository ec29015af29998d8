"""Error pages and JSON errors: a clear answer, never a bare 500 page."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from shop.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "We could not find that page.",
    405: "That is not how this page is used.",
    413: "That request is too large.",
    429: "Too many requests; please wait a moment and try again.",
    500: "Something went wrong on our side. Nothing was charged twice; please try again.",
    503: "The service is busy; please try again in a moment.",
}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/stripe/")) or (
        request.accept_mimetypes.best == "application/json"
    )


def _respond(status: int, message: str, code: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error={"code": code, "message": message}), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def untrusted_host(error: SecurityError) -> ResponseReturnValue:
        # A Host outside TRUSTED_HOSTS: no page can be built for it (its links would
        # point there), so a short plain answer.
        return "Unknown host.\n", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return _respond(
            400,
            "Your form expired or came from elsewhere. Please go back, reload the page "
            "and try again.",
            "csrf_failed",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        message = MESSAGES.get(status, error.description or "Something went wrong.")
        return _respond(status, message, (error.name or "error").lower().replace(" ", "_"))

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, MESSAGES[500], "internal_error")
