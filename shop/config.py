"""Every setting of the shop, read from the environment in one place."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery.schedules import crontab

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Placeholders used by `make run` and the tests; production refuses to start with them.
DEV_SECRET_KEY = "dev-secret-key-not-for-production"  # noqa: S105
DEV_STRIPE_SECRET_KEY = "sk_test_local_emulator"  # noqa: S105
DEV_STRIPE_WEBHOOK_SECRET = "whsec_local_emulator"  # noqa: S105
# The Stripe API version the shop is tested with (stripe-python 16.1.0's own).
DEFAULT_STRIPE_API_VERSION = "2026-10-28.endive"
# Words that place or name a unit. Whole words only, so "baseball" or "database" pass;
# "unit" and "front" are left out because ordinary notes say "the whole unit".
DEFAULT_NOTE_BLOCKED_TERMS = "base,battalion,brigade,regiment,coordinates,grid ref"


class ConfigError(RuntimeError):
    """The configuration cannot run the shop safely."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return default if value is None else int(value)


def _env_float(name: str, default: float) -> float:
    value = _env(name)
    return default if value is None else float(value)


def _env_list(name: str, default: list[str]) -> list[str]:
    value = _env(name)
    if value is None:
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def _env_terms(name: str, default: str) -> list[str]:
    """A comma-separated list where, unlike other settings, set-but-empty means none."""
    value = os.environ.get(name)
    raw = default if value is None else value
    return [" ".join(part.split()) for part in raw.split(",") if part.strip()]


def _env_date(name: str, default: str) -> date:
    value = _env(name, default) or default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an ISO date like 2026-11-01, not {value!r}") from exc


UNIT_PARTIAL_POLICIES = ("ship", "hold")


def _database_url(raw: str | None) -> str:
    if raw is None:
        return f"sqlite:///{PROJECT_ROOT / 'instance' / 'shop.db'}"
    # Heroku-style URLs name the driver "postgres"; we use psycopg 3.
    if raw.startswith("postgres://"):
        raw = "postgresql+psycopg://" + raw[len("postgres://") :]
    elif raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    return raw


def load_config() -> dict[str, Any]:
    """Read every setting from the environment; the only place that reads os.environ."""
    app_env = _env("APP_ENV", "development") or "development"
    public_url = (_env("PUBLIC_URL", "http://127.0.0.1:5000") or "").rstrip("/")
    redis_url = _env("REDIS_URL")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": _env("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _database_url(_env("DATABASE_URL")),
        "PUBLIC_URL": public_url,
        "PREFERRED_URL_SCHEME": urlsplit(public_url).scheme or "http",
        "CURRENCY": (_env("CURRENCY", "usd") or "usd").lower(),
        "ORG_NAME": _env("ORG_NAME", "Warm Hands for Soldiers"),
        "ORG_TAX_ID": _env("ORG_TAX_ID", "00-0000000"),
        "ORG_ADDRESS": _env("ORG_ADDRESS", "1 Example Street, Springfield"),
        # Receipts: goods delivered to soldiers and gifts are acknowledged differently.
        "RECEIPT_PACKAGE_WORDING": _env(
            "RECEIPT_PACKAGE_WORDING",
            "Care packages are goods that {org} delivers to soldiers on your behalf; you "
            "received no goods or services in return. Whether this purchase is "
            "tax-deductible depends on where you pay tax.",
        ),
        "RECEIPT_GIFT_WORDING": _env(
            "RECEIPT_GIFT_WORDING",
            "No goods or services were provided in exchange for your gift. {org} is a "
            "registered charity (tax ID {tax_id}); please keep this receipt for your "
            "tax records.",
        ),
        # Email: without MAIL_SERVER, messages are written to the console.
        "MAIL_SERVER": _env("MAIL_SERVER"),
        "MAIL_PORT": _env_int("MAIL_PORT", 25),
        "MAIL_USERNAME": _env("MAIL_USERNAME"),
        "MAIL_PASSWORD": _env("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": _env("MAIL_DEFAULT_SENDER", "receipts@localhost"),
        "MAIL_TIMEOUT": _env_float("MAIL_TIMEOUT", 10.0),
        # Where alerts for staff go (disputes); without it, the console.
        "STAFF_ALERT_EMAIL": _env("STAFF_ALERT_EMAIL"),
        # The packing partner: a signed JSON API, or a printable slip by email.
        "FULFILMENT_URL": _env("FULFILMENT_URL"),
        "FULFILMENT_SECRET": _env("FULFILMENT_SECRET", ""),
        "FULFILMENT_EMAIL": _env("FULFILMENT_EMAIL"),
        "FULFILMENT_TIMEOUT": _env_float("FULFILMENT_TIMEOUT", 10.0),
        # Donations, in the currency's major unit.
        "DONATION_MIN": Decimal(_env("DONATION_MIN", "5") or "5"),
        "DONATION_MAX": Decimal(_env("DONATION_MAX", "100000") or "100000"),
        # Preset gift amounts on the donation form, in the major unit.
        "DONATION_PRESETS": [Decimal(v) for v in _env_list("DONATION_PRESETS",
                                                           ["18", "36", "100", "180"])],
        # What covering the processing fee adds: FEE_PERCENT % plus FEE_FIXED_CENTS.
        "FEE_PERCENT": Decimal(_env("FEE_PERCENT", "2.9") or "2.9"),
        "FEE_FIXED_CENTS": _env_int("FEE_FIXED_CENTS", 30),
        "CART_MAX_QUANTITY": _env_int("CART_MAX_QUANTITY", 100),
        "NOTE_MAX_LENGTH": _env_int("NOTE_MAX_LENGTH", 500),
        # Notes are printed and travel with the package: what the partner can print, what a
        # note may never say (unit names and locations), and what staff read first.
        "NOTE_ALLOW_EMOJI": _env_bool("NOTE_ALLOW_EMOJI", True),
        "NOTE_BLOCKED_TERMS": _env_terms("NOTE_BLOCKED_TERMS", DEFAULT_NOTE_BLOCKED_TERMS),
        "NOTE_REVIEW_TERMS": _env_terms("NOTE_REVIEW_TERMS", ""),
        # The campaign the storefront's progress bar counts; dates are whole UTC days.
        "CAMPAIGN_NAME": _env("CAMPAIGN_NAME", "Warm Winter 2026"),
        "CAMPAIGN_START": _env_date("CAMPAIGN_START", "2026-11-01"),
        "CAMPAIGN_END": _env_date("CAMPAIGN_END", "2027-02-28"),
        "CAMPAIGN_GOAL_PACKAGES": _env_int("CAMPAIGN_GOAL_PACKAGES", 1000),
        "CAMPAIGN_GOAL_CENTS": _env_int("CAMPAIGN_GOAL_CENTS", 6500000),
        # Single packages donors chose to send together: this many make one unit's order.
        "UNIT_SIZE": _env_int("UNIT_SIZE", 10),
        # What happens to a partly filled unit when the campaign ends: ship it or hold it.
        "UNIT_PARTIAL_POLICY": (_env("UNIT_PARTIAL_POLICY", "ship") or "ship").lower(),
        # Stripe: the shop's one payment provider.
        "STRIPE_SECRET_KEY": _env("STRIPE_SECRET_KEY", DEV_STRIPE_SECRET_KEY),
        "STRIPE_WEBHOOK_SECRET": _env("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET),
        "STRIPE_API_BASE": _env("STRIPE_API_BASE"),
        "STRIPE_TIMEOUT": _env_float("STRIPE_TIMEOUT", 10.0),
        "STRIPE_MAX_NETWORK_RETRIES": _env_int("STRIPE_MAX_NETWORK_RETRIES", 2),
        "STRIPE_WEBHOOK_TOLERANCE": _env_int("STRIPE_WEBHOOK_TOLERANCE", 300),
        # The API version every request names and the webhook endpoint is set up with.
        "STRIPE_API_VERSION": _env("STRIPE_API_VERSION", DEFAULT_STRIPE_API_VERSION),
        # Seconds /readyz keeps its reading of Stripe's webhook endpoints before asking again.
        "STRIPE_CHECK_INTERVAL": _env_int("STRIPE_CHECK_INTERVAL", 900),
        # How far back the periodic reconciliation looks at Stripe.
        "RECONCILE_WINDOW_HOURS": _env_int("RECONCILE_WINDOW_HOURS", 48),
        # Celery: without a broker, tasks run in-process right after the commit.
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": _env("CELERY_QUEUE", "shop"),
        # Seconds before Redis hands a task a worker took but never acknowledged (the
        # worker died) to another worker. Kombu's default; the sweep usually comes first.
        "CELERY_VISIBILITY_TIMEOUT": _env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
        # A side effect (receipt, packing order) not done by then is sent again by the sweep.
        "SIDE_EFFECT_DEADLINE": _env_int("SIDE_EFFECT_DEADLINE", 120),
        "SIDE_EFFECT_MAX_ATTEMPTS": _env_int("SIDE_EFFECT_MAX_ATTEMPTS", 8),
        "SIDE_EFFECT_BACKOFF": _env_float("SIDE_EFFECT_BACKOFF", 30.0),
        "SIDE_EFFECT_BACKOFF_MAX": _env_float("SIDE_EFFECT_BACKOFF_MAX", 3600.0),
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A limiter whose Redis is away must not turn pages into errors.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def celery_settings(
    redis_url: str | None, queue: str = "shop", visibility_timeout: int = 3600
) -> dict[str, Any]:
    """Celery's settings: Redis when REDIS_URL is set, else tasks run in-process."""
    return {
        "broker_url": redis_url or "memory://",
        # A queue of the shop's own, so a Redis shared with other apps never mixes tasks.
        "task_default_queue": queue,
        "result_backend": None,
        "task_always_eager": redis_url is None,
        "task_ignore_result": True,
        # A task is acknowledged only when done, so a killed worker's task runs again.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # A dead broker must not hang a request: fail fast, the sweep re-sends later.
        "broker_connection_timeout": 2,
        "broker_transport_options": {"socket_connect_timeout": 2, "socket_timeout": 5,
                                     "visibility_timeout": visibility_timeout},
        "task_publish_retry": True,
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0.1,
                                      "interval_step": 0.2, "interval_max": 0.5},
        "timezone": "UTC",
        "beat_schedule": {
            "send-pending-side-effects": {"task": "sweeps.pending", "schedule": 60.0},
            "reconcile-with-stripe": {"task": "payments.reconcile", "schedule": 900.0},
            # Once the campaign's end date has passed, partly filled units are closed.
            "close-campaign-daily": {"task": "campaign.close", "schedule": crontab(minute=10,
                                                                                  hour=0)},
        },
    }


def derived_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Settings that follow from others, unless given explicitly."""
    redis_url = config.get("REDIS_URL")
    return {
        "CELERY": celery_settings(redis_url, config.get("CELERY_QUEUE") or "shop",
                                  config.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
    }


def check_campaign(config: dict[str, Any]) -> None:
    """Refuse campaign settings that would make the progress bar or the units nonsense."""
    problems = []
    if not 1 <= len(str(config.get("CAMPAIGN_NAME") or "")) <= 200:
        problems.append("CAMPAIGN_NAME must be 1 to 200 characters")
    start, end = config.get("CAMPAIGN_START"), config.get("CAMPAIGN_END")
    if not isinstance(start, date) or not isinstance(end, date):
        problems.append("CAMPAIGN_START and CAMPAIGN_END must be dates")
    elif end < start:
        problems.append("CAMPAIGN_END is before CAMPAIGN_START")
    if int(config.get("UNIT_SIZE") or 0) < 2:
        problems.append("UNIT_SIZE must be at least 2")
    if int(config.get("CAMPAIGN_GOAL_PACKAGES") or 0) < 1:
        problems.append("CAMPAIGN_GOAL_PACKAGES must be at least 1")
    if int(config.get("CAMPAIGN_GOAL_CENTS") or 0) < 1:
        problems.append("CAMPAIGN_GOAL_CENTS must be at least 1")
    if config.get("UNIT_PARTIAL_POLICY") not in UNIT_PARTIAL_POLICIES:
        problems.append("UNIT_PARTIAL_POLICY must be 'ship' or 'hold'")
    if problems:
        raise ConfigError("campaign settings: " + "; ".join(problems))


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start a production shop on placeholders or the local Stripe stand-in."""
    if config.get("APP_ENV") != "production":
        return
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        problems.append("SECRET_KEY must be set to a random secret")
    key = config.get("STRIPE_SECRET_KEY") or ""
    if key in ("", DEV_STRIPE_SECRET_KEY) or not key.startswith(("sk_live_", "sk_test_", "rk_")):
        problems.append("STRIPE_SECRET_KEY must be a real Stripe secret key")
    secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    if secret in ("", DEV_STRIPE_WEBHOOK_SECRET) or not secret.startswith("whsec_"):
        problems.append("STRIPE_WEBHOOK_SECRET must be the endpoint's real signing secret")
    api_base = config.get("STRIPE_API_BASE")
    if api_base and urlsplit(api_base).hostname != "api.stripe.com":
        problems.append("STRIPE_API_BASE points away from Stripe (the local stand-in?)")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))
