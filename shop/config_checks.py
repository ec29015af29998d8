"""What the shop refuses to start with: nonsense combinations, and production's rules.

Each rule returns a line that names the setting and says what is wrong, so an operator
can fix them all in one go; `flask --app shop check-config` prints the same lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from typing import Any
from urllib.parse import urlsplit

from shop.config import (
    DEFAULT_STRIPE_API_VERSION,
    DEV_SECRET_KEY,
    DEV_STRIPE_SECRET_KEY,
    DEV_STRIPE_WEBHOOK_SECRET,
    UNIT_PARTIAL_POLICIES,
    ConfigError,
)
from shop.payments.versions import UNDERSTOOD_MAJORS, understood

HOW_TO_GENERATE = "generate one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"
# Words a generated secret does not contain; a key holding one was typed by a person or
# copied from an example. Five letters or more, so a random key holds one by chance with
# a probability under one in ten million.
PLACEHOLDER_WORDS = (
    "secret", "password", "passwd", "change", "example", "placeholder", "production",
    "default", "insecure", "django", "flask", "sample", "replace", "dummy", "development",
)
HEX = frozenset("0123456789abcdefABCDEF")
BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
STRIPE_SECRET_KEY_FORM = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}$")
WEBHOOK_SECRET_FORM = re.compile(r"^whsec_[A-Za-z0-9+/=_-]{32,}$")
FULFILMENT_SECRET_MIN = 16


def campaign_problems(config: Mapping[str, Any]) -> list[str]:
    """Campaign settings that would make the progress bar or the units nonsense."""
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
    return problems


def general_problems(config: Mapping[str, Any]) -> list[str]:
    """Combinations that are wrong in any environment."""
    problems = []
    low, high = config.get("DONATION_MIN"), config.get("DONATION_MAX")
    if low is not None and high is not None and low > high:
        problems.append("DONATION_MIN is above DONATION_MAX")
    elif low is not None and high is not None:
        outside = [str(p) for p in config.get("DONATION_PRESETS") or [] if not low <= p <= high]
        if outside:
            problems.append(f"DONATION_PRESETS {', '.join(outside)} lie outside DONATION_MIN "
                            "to DONATION_MAX")
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        problems.append("MAIL_USE_TLS and MAIL_USE_SSL are both on: choose STARTTLS (TLS) "
                        "or SMTPS (SSL)")
    return problems


def secret_key_problem(key: str | None) -> str | None:
    """Why `key` is not at least 32 random bytes, or None when it looks like one.

    A key counts by its alphabet: 64 hex digits, 43 base64 characters or 40 other
    printable ones carry 256 bits. It must also look generated: no placeholder word, no
    repeated run of 8 characters, no run like "abcdefgh" or "87654321", and about as many
    different characters as a random draw from its alphabet gives (a random key falls
    below that bound with a probability under one in a million).
    """
    if not key:
        return "is not set; " + HOW_TO_GENERATE
    if key == DEV_SECRET_KEY:
        return "is the development placeholder; " + HOW_TO_GENERATE
    chars = set(key)
    if chars <= HEX:
        alphabet, bits_per_char = 16, 4.0
    elif chars <= BASE64:
        alphabet, bits_per_char = 64, 6.0
    else:
        alphabet, bits_per_char = 94, 6.5
    if len(key) * bits_per_char < 256:
        return (f"is too short: it must hold at least 32 random bytes ({len(key)} characters "
                f"given); " + HOW_TO_GENERATE)
    lowered = key.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return "looks like a placeholder or a phrase, not a random secret; " + HOW_TO_GENERATE
    expected_distinct = alphabet * (1 - (1 - 1 / alphabet) ** len(key))
    repeated = any(key.count(key[i : i + 8]) > 1 for i in range(len(key) - 7))
    if len(chars) < 0.6 * expected_distinct or repeated or _has_sequence(key, 8):
        return "has too little randomness (repeats or a pattern); " + HOW_TO_GENERATE
    return None


def _has_sequence(text: str, length: int) -> bool:
    """True when `text` holds `length` characters in a row that count up or down by one."""
    for step in (1, -1):
        run = 1
        for before, after in pairwise(text):
            run = run + 1 if ord(after) - ord(before) == step else 1
            if run >= length:
                return True
    return False


def _host_allowed(host: str, trusted: list[str]) -> bool:
    return any(host == t or (t.startswith(".") and (host.endswith(t) or host == t[1:]))
               for t in trusted)


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """What production refuses: placeholders, weak secrets, the stand-in, unsafe wiring."""
    if config.get("APP_ENV") != "production":
        return []
    problems = []
    key_problem = secret_key_problem(config.get("SECRET_KEY"))
    if key_problem:
        problems.append(f"SECRET_KEY {key_problem}")
    key = config.get("STRIPE_SECRET_KEY") or ""
    if key == DEV_STRIPE_SECRET_KEY or not STRIPE_SECRET_KEY_FORM.match(key):
        problems.append("STRIPE_SECRET_KEY must be a real Stripe secret key (sk_live_..., "
                        "sk_test_... or a restricted rk_... key), not a publishable key or "
                        "the stand-in's placeholder")
    secret = config.get("STRIPE_WEBHOOK_SECRET") or ""
    if secret == DEV_STRIPE_WEBHOOK_SECRET or not WEBHOOK_SECRET_FORM.match(secret):
        problems.append("STRIPE_WEBHOOK_SECRET must be the endpoint's whole signing secret "
                        "(whsec_ and at least 32 characters, as Stripe shows it); this one "
                        "is missing, cut short or the stand-in's placeholder")
    api_base = config.get("STRIPE_API_BASE")
    if api_base and (urlsplit(api_base).hostname != "api.stripe.com"
                     or urlsplit(api_base).scheme != "https"):
        problems.append("STRIPE_API_BASE points away from Stripe (the local stand-in?); "
                        "leave it unset in production")
    public_url = str(config.get("PUBLIC_URL") or "")
    public = urlsplit(public_url)
    if public.scheme != "https" or not public.hostname:
        problems.append(f"PUBLIC_URL must be the shop's https:// address, not {public_url!r} "
                        "(donors' links, Stripe's return pages and the secure cookie use it)")
    database = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not database.startswith(("postgresql", "postgres")):
        problems.append("DATABASE_URL must point at PostgreSQL (postgresql://...); the "
                        "embedded SQLite file is for a single local process")
    redis_url = config.get("REDIS_URL")
    if not redis_url:
        problems.append("REDIS_URL must be set: with several web and worker processes the "
                        "task queue and the rate limits need one shared Redis")
    elif urlsplit(str(redis_url)).scheme not in ("redis", "rediss", "unix"):
        problems.append("REDIS_URL must be a redis://, rediss:// or unix:// address")
    if config.get("FULFILMENT_URL"):
        partner_secret = str(config.get("FULFILMENT_SECRET") or "")
        if len(partner_secret) < FULFILMENT_SECRET_MIN:
            problems.append(
                "FULFILMENT_SECRET must be set (at least "
                f"{FULFILMENT_SECRET_MIN} characters) whenever FULFILMENT_URL is: it signs "
                "every packing order sent to the partner")
    trusted = list(config.get("TRUSTED_HOSTS") or [])
    if not trusted:
        problems.append("TRUSTED_HOSTS must list the host names the shop answers to (e.g. "
                        "shop.example.org), so a forged Host header cannot make links")
    elif public.hostname and not _host_allowed(public.hostname, trusted):
        problems.append(f"TRUSTED_HOSTS does not include PUBLIC_URL's host {public.hostname}")
    return problems


def stripe_problems(config: Mapping[str, Any]) -> list[str]:
    """A pinned API version whose events the shop cannot read."""
    version = str(config.get("STRIPE_API_VERSION") or "")
    if understood(version):
        return []
    return [f"STRIPE_API_VERSION {version!r} is not a version the shop reads events of: use "
            f"a named version of {', '.join(UNDERSTOOD_MAJORS)}, such as "
            f"{DEFAULT_STRIPE_API_VERSION}"]


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Every reason the shop must not start with `config` (empty when it may)."""
    return (campaign_problems(config) + general_problems(config) + stripe_problems(config)
            + production_problems(config))


def config_warnings(config: Mapping[str, Any]) -> list[str]:
    """What still runs but an operator most likely did not mean (check-config prints them)."""
    warnings = []
    production = config.get("APP_ENV") == "production"
    if production and not config.get("MAIL_SERVER"):
        warnings.append("MAIL_SERVER is not set: receipts are printed to the log, not sent")
    if production and not (config.get("FULFILMENT_URL") or config.get("FULFILMENT_EMAIL")):
        warnings.append("neither FULFILMENT_URL nor FULFILMENT_EMAIL is set: packing orders "
                        "cannot reach the partner")
    if production and not config.get("STAFF_ALERT_EMAIL"):
        warnings.append("STAFF_ALERT_EMAIL is not set: dispute and abuse alerts go to the log")
    if production and not config.get("RATELIMIT_ENABLED", True):
        warnings.append("RATELIMIT_ENABLED is off: logins and checkouts are not rate limited")
    if production and int(config.get("TRUSTED_PROXY_HOPS") or 0) == 0:
        warnings.append("TRUSTED_PROXY_HOPS is 0: behind a reverse proxy every donor shares "
                        "the proxy's address (set it to the number of proxies in front)")
    return warnings


def check_config(config: Mapping[str, Any]) -> None:
    """Raise ConfigError naming every problem with `config`."""
    problems = config_problems(config)
    if problems:
        heading = ("refusing to start in production" if config.get("APP_ENV") == "production"
                   else "the shop's settings are wrong")
        raise ConfigError(problems, heading)


def check_campaign(config: Mapping[str, Any]) -> None:
    """Refuse campaign settings that would make the progress bar or the units nonsense."""
    problems = campaign_problems(config)
    if problems:
        raise ConfigError(problems, "campaign settings")


def check_production(config: Mapping[str, Any]) -> None:
    """Refuse to start a production shop on placeholders, weak secrets or the stand-in."""
    problems = production_problems(config)
    if problems:
        raise ConfigError(problems, "refusing to start in production")
