"""Every setting of the shop: declared, typed and read from the environment in one place.

`Settings` lists each setting with its type, default and limits (pydantic-settings reads
them from the environment). A value that does not parse is refused with the setting's
name and what it should be; `load_config()` turns the settings into Flask's config.
Rules about combinations of settings, and what production refuses, are in
`shop/config_checks.py`.

To add a setting: declare it on `Settings` (UPPER_CASE, a type, a default, limits) and
read it as `current_app.config["NAME"]`; document it in the README's settings table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from celery.schedules import crontab
from limits import parse_many
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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

# Settings whose values are never printed, in errors or in `check-config`'s report.
SECRET_SETTINGS = frozenset({
    "SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "MAIL_PASSWORD",
    "FULFILMENT_SECRET", "DATABASE_URL", "REDIS_URL",
})
# Comma-separated lists where, unlike other settings, set-but-empty means "none".
EMPTY_MEANS_NONE = frozenset({"NOTE_BLOCKED_TERMS", "NOTE_REVIEW_TERMS", "DONATION_IMPACT"})
# Set but empty is refused: `APP_ENV=$ENVIRONMENT` with the variable missing must not
# start production with the development defaults.
EMPTY_REFUSED = frozenset({"APP_ENV"})

APP_ENVS = ("development", "production")
UNIT_PARTIAL_POLICIES = ("ship", "hold")

KIB = 1024
MIB = 1024 * KIB


class ConfigError(RuntimeError):
    """The configuration cannot run the shop safely; `problems` names each setting at fault."""

    def __init__(self, problems: list[str], heading: str = "the shop's settings are wrong") -> None:
        self.problems = list(problems)
        super().__init__(heading + ":\n  " + "\n  ".join(self.problems))


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [" ".join(part.split()) for part in value.split(",") if part.strip()]
    return value


def _impact_lines(value: Any) -> Any:
    """`18=Socks for one soldier|65=One soldier's winter kit` -> {Decimal: text}."""
    if not isinstance(value, str):
        return value
    impacts: dict[str, str] = {}
    for part in value.split("|"):
        if not part.strip():
            continue
        amount, sep, text = part.partition("=")
        if not sep or not text.strip() or not amount.strip():
            raise ValueError("must be AMOUNT=what it does, separated by |, like "
                             "'18=Warm socks for one soldier|36=A thermal base layer'")
        impacts[amount.strip()] = " ".join(text.split())
    return impacts


DEFAULT_DONATION_IMPACT = (
    "18=Warm socks and hand warmers for one soldier"
    "|36=A thermal base layer for one soldier"
    "|65=One soldier's whole winter kit"
    "|100=A winter kit, and more towards the next"
    "|180=Winter kits for nearly three soldiers"
)

DEFAULT_ABOUT_TEXT = """\
{org} sends winter care packages to soldiers on cold duty. Each package holds a fleece
jacket, a thermal base layer, merino socks, a beanie and neck gaiter, insulated gloves and
hand warmers, and the personal note of support you write.

You can send one package, a ten-pack that keeps a whole unit warm, or a gift of any amount
that goes where it is needed most. A single package can also fill a unit together with
other donors' packages, so the soldiers of one unit are warm at the same time.

{org} is a registered charity, tax ID {tax_id}, at {address}. Payments are taken by
Stripe; we never see or keep your card number."""

DEFAULT_CONTACT_TEXT = """\
Questions about an order, a receipt or a monthly gift? Write to us and give your order
number (it looks like CP-000042) so we can find it quickly. We answer within two working
days."""

DEFAULT_PRIVACY_TEXT = """\
We keep what we need to send your package and your receipt: your name, your email address,
what you chose, your note of support and, for a dedication, the name and email address you
gave us. Your card details go to Stripe and never reach us.

We use your email address for your receipt, for messages about your order or monthly gift,
and for a statement of your giving once a year. We do not sell or share it, and we send no
marketing.

Your note is printed and packed with the package. Our packing partner sees the note and
the order number, never your email address or card.

To see, correct or delete what we hold about you, write to {email}. We keep receipts for
as long as tax law requires."""

DEFAULT_REFUND_POLICY_TEXT = """\
If something went wrong with your order or gift, write to {email} within 30 days with your
order number and we will refund it through Stripe to the card you paid with. A refund
shows on your statement within 5 to 10 working days, and we email you when it is done.

A package already packed and on its way to soldiers cannot be called back, but we will
still refund it if you ask within 30 days.

A monthly gift can be cancelled at any time from the link in its receipt; no further
payments are taken."""

CommaList = Annotated[list[str], NoDecode]
DecimalList = Annotated[list[Decimal], NoDecode]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeSeconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Settings(BaseSettings):
    """The environment variables the shop reads, with their types, defaults and limits."""

    model_config = SettingsConfigDict(
        case_sensitive=True, extra="ignore", str_strip_whitespace=True,
    )

    # --- the app
    APP_ENV: Literal["development", "production"] = "development"
    SECRET_KEY: str = DEV_SECRET_KEY
    DATABASE_URL: str | None = None
    PUBLIC_URL: str = "http://127.0.0.1:5000"
    CURRENCY: str = Field("usd", pattern=r"^[A-Za-z]{3}$")
    # The donor pages' wording and spelling: en_US ("honor"), en_GB ("honour"), ...
    LOCALE: str = Field("en_US", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    # --- behind a reverse proxy, and what a request may cost
    TRUSTED_PROXY_HOPS: int = Field(0, ge=0, le=5)
    TRUSTED_HOSTS: CommaList = []
    MAX_CONTENT_LENGTH: int = Field(1 * MIB, ge=16 * KIB)
    WEBHOOK_MAX_BYTES: int = Field(256 * KIB, ge=16 * KIB)
    # --- the charity
    ORG_NAME: str = "Warm Hands for Soldiers"
    ORG_TAX_ID: str = "00-0000000"
    ORG_ADDRESS: str = "1 Example Street, Springfield"
    ORG_EMAIL: str = "hello@example.org"
    ORG_PHONE: str = ""
    # The charity's pages (/about, /contact, /privacy, /refund-policy): paragraphs
    # separated by a blank line; {org}, {tax_id}, {address}, {email} and {phone} are
    # filled in. The defaults describe the shop as built; set your own words.
    ABOUT_TEXT: str = DEFAULT_ABOUT_TEXT
    CONTACT_TEXT: str = DEFAULT_CONTACT_TEXT
    PRIVACY_TEXT: str = DEFAULT_PRIVACY_TEXT
    REFUND_POLICY_TEXT: str = DEFAULT_REFUND_POLICY_TEXT
    # Receipts: goods delivered to soldiers and gifts are acknowledged differently.
    RECEIPT_PACKAGE_WORDING: str = (
        "Care packages are goods that {org} delivers to soldiers on your behalf; you "
        "received no goods or services in return. Whether this purchase is "
        "tax-deductible depends on where you pay tax."
    )
    RECEIPT_GIFT_WORDING: str = (
        "No goods or services were provided in exchange for your gift. {org} is a "
        "registered charity (tax ID {tax_id}); please keep this receipt for your "
        "tax records."
    )
    # --- the staff's CSV export: up to this many orders it streams at once; a larger one
    # is built by a task into EXPORT_DIR (default instance/exports, a folder the web
    # and the worker processes share) and downloaded when ready
    EXPORT_STREAM_MAX_ROWS: int = Field(10_000, ge=0)
    EXPORT_DIR: str | None = None
    # --- email: without MAIL_SERVER, messages are written to the console
    MAIL_SERVER: str | None = None
    MAIL_PORT: int = Field(25, ge=1, le=65535)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS: bool = False
    MAIL_USE_SSL: bool = False
    MAIL_DEFAULT_SENDER: str = "receipts@localhost"
    MAIL_TIMEOUT: Seconds = 10.0
    # With mail on the console, each message's attachments (receipt PDFs) are also written
    # to this folder and their paths printed (`make run` sets instance/mail); unset: not kept.
    MAIL_SAVE_DIR: str | None = None
    # The mail server's log of accepted messages, asked after an interrupted attempt:
    # GET MAIL_LOG_URL?message_id=<Message-ID> answers {"accepted": true|false}. Unset:
    # an interrupted receipt is sent again under the same Message-ID (see the README).
    MAIL_LOG_URL: str | None = None
    # Where alerts for staff go (disputes); without it, the console.
    STAFF_ALERT_EMAIL: str | None = None
    # --- the packing partner: a signed JSON API, or a printable slip by email
    FULFILMENT_URL: str | None = None
    FULFILMENT_SECRET: str = ""
    FULFILMENT_EMAIL: str | None = None
    FULFILMENT_TIMEOUT: Seconds = 10.0
    # --- donations, in the currency's major unit
    DONATION_MIN: Decimal = Field(Decimal("5"), gt=0, allow_inf_nan=False)
    DONATION_MAX: Decimal = Field(Decimal("100000"), gt=0, allow_inf_nan=False)
    # Preset gift amounts on the donation form, in the major unit.
    DONATION_PRESETS: DecimalList = [Decimal("18"), Decimal("36"), Decimal("100"),
                                     Decimal("180")]
    # What each preset amount does, on its tile: "36=A thermal base layer|...".
    DONATION_IMPACT: Annotated[dict[Decimal, str], NoDecode] = Field(
        default_factory=lambda: _impact_lines(DEFAULT_DONATION_IMPACT))
    # What covering the processing fee adds: FEE_PERCENT % plus FEE_FIXED_CENTS.
    FEE_PERCENT: Decimal = Field(Decimal("2.9"), ge=0, lt=50, allow_inf_nan=False)
    FEE_FIXED_CENTS: int = Field(30, ge=0)
    CART_MAX_QUANTITY: int = Field(100, ge=1)
    NOTE_MAX_LENGTH: int = Field(500, ge=1)
    # Notes are printed and travel with the package: what the partner can print, what a
    # note may never say (unit names and locations), and what staff read first.
    NOTE_ALLOW_EMOJI: bool = True
    NOTE_BLOCKED_TERMS: CommaList = _comma_list(DEFAULT_NOTE_BLOCKED_TERMS)
    NOTE_REVIEW_TERMS: CommaList = []
    # --- the campaign the storefront's progress bar counts; dates are whole UTC days
    CAMPAIGN_NAME: str = "Warm Winter 2026"
    CAMPAIGN_START: date = date(2026, 11, 1)
    CAMPAIGN_END: date = date(2027, 2, 28)
    CAMPAIGN_GOAL_PACKAGES: int = 1000
    CAMPAIGN_GOAL_CENTS: int = 6500000
    # Single packages donors chose to send together: this many make one unit's order.
    UNIT_SIZE: int = 10
    # What happens to a partly filled unit when the campaign ends: ship it or hold it.
    UNIT_PARTIAL_POLICY: Literal["ship", "hold"] = "ship"
    # --- Stripe: the shop's one payment provider
    STRIPE_SECRET_KEY: str = DEV_STRIPE_SECRET_KEY
    STRIPE_WEBHOOK_SECRET: str = DEV_STRIPE_WEBHOOK_SECRET
    STRIPE_API_BASE: str | None = None
    STRIPE_TIMEOUT: Seconds = 10.0
    STRIPE_MAX_NETWORK_RETRIES: int = Field(2, ge=0, le=10)
    STRIPE_WEBHOOK_TOLERANCE: int = Field(300, ge=1)
    # The API version every request names and the webhook endpoint is set up with.
    STRIPE_API_VERSION: str = Field(DEFAULT_STRIPE_API_VERSION,
                                    pattern=r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
    # Seconds /readyz keeps its reading of Stripe's webhook endpoints before asking again.
    STRIPE_CHECK_INTERVAL: int = Field(900, ge=1)
    # How far back the periodic reconciliation looks at Stripe.
    RECONCILE_WINDOW_HOURS: int = Field(48, ge=1)
    # --- Celery: without a broker, tasks run in-process right after the commit
    REDIS_URL: str | None = None
    # Seconds donor pages keep the catalog and the campaign's and units' progress before
    # reading them again (any change to them is seen at once); 0 reads them every time.
    STOREFRONT_CACHE_SECONDS: int = Field(5, ge=0, le=300)
    # Without a broker, tasks a request asks for run on a background thread of the web
    # process once the transaction commits, so a webhook never waits for a receipt's PDF.
    # Off: they run before the response (the test suite, for answers it can check at once).
    TASKS_IN_BACKGROUND: bool = True
    CELERY_QUEUE: str = "shop"
    # Seconds before Redis hands a task a worker took but never acknowledged (the
    # worker died) to another worker. Kombu's default; the sweep usually comes first.
    CELERY_VISIBILITY_TIMEOUT: int = Field(3600, ge=1)
    # Seconds a page waits on Redis (rate limits, handing a task to the broker) before it
    # goes on without it: a Redis that accepts connections but never answers costs a
    # request this long, a few times at most, never Redis's default of forever.
    REDIS_TIMEOUT: Seconds = Field(1.0, le=30)
    # A side effect (receipt, packing order) not done by then is sent again by the sweep.
    SIDE_EFFECT_DEADLINE: int = Field(120, ge=0)
    SIDE_EFFECT_MAX_ATTEMPTS: int = Field(8, ge=1)
    SIDE_EFFECT_BACKOFF: NonNegativeSeconds = 30.0
    SIDE_EFFECT_BACKOFF_MAX: NonNegativeSeconds = 3600.0
    RATELIMIT_ENABLED: bool = True
    # Card testing: how many new Checkout Sessions (from /checkout and /donate) one network
    # address, one email address and the whole shop may open, in Flask-Limiter's words
    # ("5 per minute;20 per hour"). At the whole shop's ceiling staff are alerted, once an hour.
    CHECKOUT_LIMIT_PER_ADDRESS: str = "5 per minute;20 per hour"
    CHECKOUT_LIMIT_PER_EMAIL: str = "5 per 10 minutes;20 per day"
    CHECKOUT_LIMIT_GLOBAL: str = "300 per hour"
    # --- staff sessions: a session ends after this long without a page view, and after
    # this long at most; a login fails this many times (per account, per address) within
    # the window before it is locked for STAFF_LOCKOUT_MINUTES (an admin can lift it)
    STAFF_SESSION_IDLE_MINUTES: int = Field(30, ge=1, le=24 * 60)
    STAFF_SESSION_MAX_HOURS: int = Field(12, ge=1, le=24 * 30)
    STAFF_LOGIN_MAX_FAILURES: int = Field(5, ge=1, le=100)
    STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS: int = Field(20, ge=1, le=10000)
    STAFF_LOGIN_WINDOW_MINUTES: int = Field(15, ge=1, le=24 * 60)
    STAFF_LOCKOUT_MINUTES: int = Field(15, ge=1, le=7 * 24 * 60)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_default(cls, data: Any) -> Any:
        """An empty variable (`FOO=`) is the same as an unset one, except for term lists
        (none) and APP_ENV (refused)."""
        if not isinstance(data, Mapping):
            return data
        return {
            key: value for key, value in data.items()
            if key in EMPTY_MEANS_NONE | EMPTY_REFUSED
            or not (isinstance(value, str) and not value.strip())
        }

    @field_validator("TRUSTED_HOSTS", "NOTE_BLOCKED_TERMS", "NOTE_REVIEW_TERMS",
                     "DONATION_PRESETS", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        return _comma_list(value)

    @field_validator("CHECKOUT_LIMIT_PER_ADDRESS", "CHECKOUT_LIMIT_PER_EMAIL",
                     "CHECKOUT_LIMIT_GLOBAL", mode="after")
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must be limits like '5 per minute;20 per hour'") from None
        return value

    @field_validator("DONATION_IMPACT", mode="before")
    @classmethod
    def _split_impacts(cls, value: Any) -> Any:
        return _impact_lines(value)

    @field_validator("APP_ENV", "UNIT_PARTIAL_POLICY", "CURRENCY", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("CAMPAIGN_START", "CAMPAIGN_END", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("must be an ISO date like 2026-11-01") from None
        return value

    @field_validator("TRUSTED_HOSTS", mode="after")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            bare = host.removeprefix(".")
            if not bare or any(not (c.isalnum() or c in ".-") for c in bare):
                raise ValueError(
                    "must be host names separated by commas, like shop.example.org or "
                    ".example.org for every subdomain (no scheme, port or path)"
                )
        return [host.lower() for host in hosts]

    @field_validator("PUBLIC_URL", "STRIPE_API_BASE", "FULFILMENT_URL", mode="after")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address with a host name")
        return url.rstrip("/")


_MESSAGES = {
    "bool_parsing": "must be true or false (also yes/no, on/off, 1/0)",
    "bool_type": "must be true or false (also yes/no, on/off, 1/0)",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_pattern_mismatch": "has the wrong form",
}


def _describe(error: ErrorDetails) -> str:
    name = ".".join(str(part) for part in error["loc"][:1]) or "settings"
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _MESSAGES:
        what = _MESSAGES[kind]
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than",
                 "less_than_equal": "at most", "less_than": "less than"}[kind]
        limit = next(iter(ctx.values()), "")
        what = f"must be {words} {limit}"
    elif kind == "literal_error":
        what = f"must be one of {ctx.get('expected', '')}"
    elif kind == "value_error":
        what = str(error["msg"]).removeprefix("Value error, ")
    else:
        what = str(error["msg"]).replace("Input should", "should")
    if name == "CURRENCY" and kind == "string_pattern_mismatch":
        what = "must be a three-letter ISO 4217 code like usd"
    if name in SECRET_SETTINGS or "input" not in error:
        return f"{name} {what}"
    shown = error["input"]
    if isinstance(shown, list) and len(error["loc"]) > 1:
        shown = shown[int(error["loc"][1])] if isinstance(error["loc"][1], int) else shown
    return f"{name} {what}, not {shown!r}"


def read_settings() -> Settings:
    """The settings from the environment; raises ConfigError naming every bad one."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise ConfigError(problems) from None


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
    """Flask's config from the environment: the only place that reads os.environ.

    Raises ConfigError (every bad setting named) when a value does not parse.
    """
    settings = read_settings()
    config = settings.model_dump()
    database_url = config.pop("DATABASE_URL")
    public_url = settings.PUBLIC_URL
    config.update({
        "SQLALCHEMY_DATABASE_URI": _database_url(database_url),
        "PREFERRED_URL_SCHEME": urlsplit(public_url).scheme or "http",
        # Flask checks each request's Host against this list (None: any host).
        "TRUSTED_HOSTS": settings.TRUSTED_HOSTS or None,
        "RATELIMIT_HEADERS_ENABLED": True,
        # A limiter whose Redis is away must not turn pages into errors.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # The cookie is written when the session changes, not on every page: a cart's
        # cookie lasts PERMANENT_SESSION_LIFETIME from its last change (staff sessions
        # keep their own idle timeout on the server).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    })
    return config


def celery_settings(
    redis_url: str | None, queue: str = "shop", visibility_timeout: int = 3600,
    redis_timeout: float = 1.0,
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
        "broker_connection_timeout": redis_timeout,
        # A Redis that accepts connections and never answers: each command gives up
        # after REDIS_TIMEOUT (the worker's blocking reads wait on its event loop, not on
        # this), and a publish is tried twice; the row stays pending for the sweep.
        "broker_transport_options": {"socket_connect_timeout": redis_timeout,
                                     "socket_timeout": redis_timeout,
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


def derived_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Settings that follow from others, unless given explicitly."""
    redis_url = config.get("REDIS_URL")
    return {
        "CELERY": celery_settings(redis_url, config.get("CELERY_QUEUE") or "shop",
                                  config.get("CELERY_VISIBILITY_TIMEOUT", 3600),
                                  float(config.get("REDIS_TIMEOUT", 1.0))),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        **cache_settings(redis_url, int(config.get("STOREFRONT_CACHE_SECONDS", 5))),
        # Passed to redis-py: a silent Redis costs a rate-limited page REDIS_TIMEOUT, after
        # which the limiter counts in memory (RATELIMIT_SWALLOW_ERRORS) until it is back.
        "RATELIMIT_STORAGE_OPTIONS": ({"socket_timeout": float(config.get("REDIS_TIMEOUT", 1.0)),
                                       "socket_connect_timeout":
                                           float(config.get("REDIS_TIMEOUT", 1.0))}
                                      if redis_url else {}),
    }


def cache_settings(redis_url: str | None, seconds: int) -> dict[str, Any]:
    """Flask-Caching's settings: Redis when REDIS_URL is set, else each process's memory."""
    if seconds <= 0:  # Flask-Caching reads a timeout of 0 as "forever"
        return {"CACHE_TYPE": "NullCache"}
    settings: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": seconds, "CACHE_KEY_PREFIX": "shop:"}
    if redis_url:
        settings |= {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url,
                     "CACHE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    else:
        settings |= {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 100}
    return settings
