"""Card testing: how many new Checkout Sessions an address, an email and the whole shop may open."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse, parse_many

from shop import jobs
from shop.extensions import limiter

log = logging.getLogger(__name__)

# What the donor reads. It does not say which limit, so a tester learns nothing to tune.
REFUSED_MESSAGE = (
    "We have had too many payment attempts in a short time, so we cannot open the payment "
    "page right now. Nothing was charged. Please try again in a few minutes."
)
# The staff alert about the whole shop's ceiling goes out at most this often.
ALERT_EVERY = parse("1 per hour")
_PREFIX = "checkout"


@dataclass(frozen=True)
class Refusal:
    """A new Checkout Session was refused: which limit ("address", "email", "shop")."""

    scope: str
    limit: str
    message: str = REFUSED_MESSAGE


def _email_key(email: str) -> str:
    # The limiter's storage (Redis) never holds a donor's address, only its digest.
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]


def allow_new_session(email: str, address: str | None) -> Refusal | None:
    """Count one new Checkout Session for this email and network address, or refuse it.

    Limits: CHECKOUT_LIMIT_PER_ADDRESS, CHECKOUT_LIMIT_PER_EMAIL and CHECKOUT_LIMIT_GLOBAL,
    counted in the rate limiter's storage (Redis whenever REDIS_URL is set, so all workers
    count together). A refused attempt counts against nothing. When the whole shop's
    ceiling is reached, staff get an alert (at most once an hour). With rate limits off
    (RATELIMIT_ENABLED=false) everything is allowed; when the storage cannot be reached
    the attempt is allowed and logged (Stripe's own fraud checks still stand).
    """
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", True):
        return None
    checks: list[tuple[str, str, str]] = [
        ("address", config["CHECKOUT_LIMIT_PER_ADDRESS"], address or "unknown"),
        ("email", config["CHECKOUT_LIMIT_PER_EMAIL"], _email_key(email)),
        ("shop", config["CHECKOUT_LIMIT_GLOBAL"], "all"),
    ]
    counted: list[tuple[RateLimitItem, str, str]] = []
    try:
        strategy = limiter.limiter
        for scope, spec, who in checks:
            for item in parse_many(spec):
                if not strategy.test(item, _PREFIX, scope, who):
                    return _refuse(scope, str(item), address)
                counted.append((item, scope, who))
        for item, scope, who in counted:
            strategy.hit(item, _PREFIX, scope, who)
    except Exception as exc:  # noqa: BLE001 - storage away: fail open, Stripe still screens
        log.warning("checkout limits not checked: %s", type(exc).__name__)
    return None


def _refuse(scope: str, limit: str, address: str | None) -> Refusal:
    # The email is not logged; the address says where the attempts come from.
    log.warning("checkout refused: the %s limit (%s) is reached; from %s", scope, limit,
                address or "an unknown address")
    if scope == "shop" and limiter.limiter.hit(ALERT_EVERY, _PREFIX, "ceiling-alert"):
        jobs.send_now(jobs.CHECKOUT_CEILING_ALERT, limit)
    return Refusal(scope, limit)
