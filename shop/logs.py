"""What the app's logs may carry: donors' tokens are taken out of logged request lines."""

from __future__ import annotations

import logging
import re

# The pages whose address is a secret (the order's token, the monthly plan's token), and
# Stripe's session id on the return from Checkout.
_SECRET_PATH = re.compile(r"(/(?:api/)?orders/|/monthly/)[^/\s?\"]+")
_SECRET_QUERY = re.compile(r"(session_id=)[^&\s\"]+")


def redact(text: str) -> str:
    """`GET /orders/abc?session_id=cs_1` -> `GET /orders/[token]?session_id=[id]`."""
    return _SECRET_QUERY.sub(r"\1[id]", _SECRET_PATH.sub(r"\1[token]", text))


class RedactTokens(logging.Filter):
    """Rewrites a record's message without the tokens (the dev server's request lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_filters() -> None:
    """Once per process: the development server logs every request line at INFO."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
