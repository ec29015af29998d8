"""Settings name themselves when wrong; production refuses placeholders, weak secrets and
unsafe wiring, and `flask --app shop check-config` prints the same report."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest

from shop.config import (
    DEV_SECRET_KEY,
    DEV_STRIPE_SECRET_KEY,
    DEV_STRIPE_WEBHOOK_SECRET,
    ConfigError,
    load_config,
)
from shop.config_checks import check_config, check_production, secret_key_problem

GOOD: dict[str, Any] = {
    "APP_ENV": "production",
    "SECRET_KEY": "9f1c2e7ab04d5e86c3f1a2b9d0e4c7f6a8b1d3e5f7092c4a6e8b0d2f4a6c8e01",
    "STRIPE_SECRET_KEY": "sk_live_51AbCdEfGhIjKlMnOpQrStUv",
    "STRIPE_WEBHOOK_SECRET": "whsec_Tv0C8aDCBrl7Cxk3Hhh7vCDtbEzdAkkX",
    "STRIPE_API_BASE": None,
    "PUBLIC_URL": "https://shop.warmhands.org",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://shop@db.internal/shop",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "FULFILMENT_URL": "https://partner.example.net/orders",
    "FULFILMENT_SECRET": "partner-shared-hmac-key-2026",
    "TRUSTED_HOSTS": ["shop.warmhands.org"],
}
ROOT = Path(__file__).resolve().parents[2]


def test_real_production_settings_start() -> None:
    check_production(GOOD)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY is the development placeholder"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x"}, "SECRET_KEY is too short"),
        ({"SECRET_KEY": "a-long-random-secret"}, "SECRET_KEY is too short"),
        ({"SECRET_KEY": "0123456789abcdef" * 4}, "SECRET_KEY has too little randomness"),
        ({"SECRET_KEY": "a" * 80}, "SECRET_KEY has too little randomness"),
        ({"SECRET_KEY": "correct horse battery staple and more words here ok"},
         "SECRET_KEY has too little randomness"),
        ({"SECRET_KEY": "ThisIsMyVeryLongButNotRandomSecretKeyForProduction2026"},
         "SECRET_KEY looks like a placeholder"),
        ({"SECRET_KEY": "please-change-me-" + "k" * 40}, "SECRET_KEY looks like a placeholder"),
        ({"STRIPE_SECRET_KEY": DEV_STRIPE_SECRET_KEY}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "pk_live_publishable"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_Tv0C8aDCBrl7Cxk"}, "STRIPE_WEBHOOK_SECRET .*cut short"),
        ({"STRIPE_WEBHOOK_SECRET": "Tv0C8aDCBrl7Cxk3Hhh7vCDtbEzdAkkXabcdef"},
         "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "stand-in"),
        ({"PUBLIC_URL": "http://shop.warmhands.org"}, "PUBLIC_URL must be the shop's https://"),
        ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/shop.db"}, "DATABASE_URL .*PostgreSQL"),
        ({"REDIS_URL": None}, "REDIS_URL must be set"),
        ({"REDIS_URL": "http://redis.internal"}, "REDIS_URL must be a redis://"),
        ({"FULFILMENT_SECRET": ""}, "FULFILMENT_SECRET must be set .* FULFILMENT_URL"),
        ({"FULFILMENT_SECRET": "short"}, "FULFILMENT_SECRET"),
        ({"TRUSTED_HOSTS": []}, "TRUSTED_HOSTS must list"),
        ({"TRUSTED_HOSTS": ["other.org"]}, "TRUSTED_HOSTS does not include .*shop.warmhands.org"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        check_production(GOOD | override)
    assert len(refused.value.problems) == 1  # only the setting at fault is named


def test_a_partner_by_email_needs_no_partner_secret() -> None:
    check_production(GOOD | {"FULFILMENT_URL": None, "FULFILMENT_SECRET": ""})


def test_a_subdomain_wildcard_covers_the_public_host() -> None:
    check_production(GOOD | {"TRUSTED_HOSTS": [".warmhands.org"]})


@pytest.mark.parametrize(
    "make_key",
    [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32),
     lambda: b64encode(os.urandom(32)).decode(), lambda: secrets.token_urlsafe(64)],
    ids=["token_hex(32)", "token_urlsafe(32)", "base64(32 bytes)", "token_urlsafe(64)"],
)
def test_generated_secret_keys_are_accepted(make_key: Any) -> None:
    for _ in range(300):
        key = make_key()
        assert secret_key_problem(key) is None, key


def test_development_runs_on_placeholders() -> None:
    check_production({"APP_ENV": "development", "SECRET_KEY": DEV_SECRET_KEY})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as refused:
        check_config(GOOD | {"SECRET_KEY": "x", "REDIS_URL": None, "UNIT_SIZE": 1,
                             "CAMPAIGN_NAME": "Winter", "CAMPAIGN_GOAL_PACKAGES": 1,
                             "CAMPAIGN_GOAL_CENTS": 1, "UNIT_PARTIAL_POLICY": "ship",
                             "CAMPAIGN_START": None, "CAMPAIGN_END": None})
    text = str(refused.value)
    for name in ("SECRET_KEY", "REDIS_URL", "UNIT_SIZE", "CAMPAIGN_START"):
        assert name in text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CART_MAX_QUANTITY", "ten", "CART_MAX_QUANTITY must be a whole number, not 'ten'"),
        ("CART_MAX_QUANTITY", "0", "CART_MAX_QUANTITY must be at least 1"),
        ("NOTE_ALLOW_EMOJI", "maybe", "NOTE_ALLOW_EMOJI must be true or false"),
        ("NOTE_ALLOW_EMOJI", "enabled", "NOTE_ALLOW_EMOJI must be true or false"),
        ("MAIL_TIMEOUT", "soon", "MAIL_TIMEOUT must be a number"),
        ("MAIL_TIMEOUT", "nan", "MAIL_TIMEOUT must be a finite number"),
        ("DONATION_MIN", "five", "DONATION_MIN must be a number"),
        ("DONATION_PRESETS", "18,lots", "DONATION_PRESETS must be a number, not 'lots'"),
        ("APP_ENV", "prod", "APP_ENV must be one of 'development' or 'production', not 'prod'"),
        ("APP_ENV", "staging", "APP_ENV must be one of"),
        ("APP_ENV", "", "APP_ENV must be one of 'development' or 'production', not ''"),
        ("APP_ENV", "  ", "APP_ENV must be one of"),
        ("CAMPAIGN_START", "1st of November", "CAMPAIGN_START must be an ISO date"),
        ("CURRENCY", "dollars", "CURRENCY must be a three-letter ISO 4217 code"),
        ("TRUSTED_HOSTS", "https://shop.example.org/", "TRUSTED_HOSTS must be host names"),
        ("PUBLIC_URL", "shop.example.org", "PUBLIC_URL must be an http:// or https:// address"),
        ("TRUSTED_PROXY_HOPS", "-1", "TRUSTED_PROXY_HOPS must be at least 0"),
        ("WEBHOOK_MAX_BYTES", "1MB", "WEBHOOK_MAX_BYTES must be a whole number"),
        ("MAX_CONTENT_LENGTH", "100", "MAX_CONTENT_LENGTH must be at least 16384"),
        ("CHECKOUT_LIMIT_PER_EMAIL", "five an hour",
         "CHECKOUT_LIMIT_PER_EMAIL must be limits like '5 per minute;20 per hour'"),
    ],
)
def test_a_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                    message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_config()


def test_refusals_never_repeat_a_secret() -> None:
    secrets_given = {"SECRET_KEY": "hunter2hunter2", "FULFILMENT_SECRET": "tiny-key",
                     "STRIPE_WEBHOOK_SECRET": "whsec_cutshort", "STRIPE_SECRET_KEY": "sk_oops"}
    with pytest.raises(ConfigError) as refused:
        check_production(GOOD | secrets_given)
    assert len(refused.value.problems) == 4
    for value in secrets_given.values():
        assert value not in str(refused.value)


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("TRUE", True), ("yes", True), ("On", True), ("1", True),
    ("false", False), ("No", False), ("off", False), ("0", False),
])
def test_booleans_in_their_usual_spellings(monkeypatch: pytest.MonkeyPatch, raw: str,
                                           expected: bool) -> None:
    monkeypatch.setenv("NOTE_ALLOW_EMOJI", raw)
    assert load_config()["NOTE_ALLOW_EMOJI"] is expected


def test_app_env_is_matched_whatever_its_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", " Production ")
    assert load_config()["APP_ENV"] == "production"


def test_proxy_and_size_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRUSTED_PROXY_HOPS", "TRUSTED_HOSTS", "MAX_CONTENT_LENGTH",
                 "WEBHOOK_MAX_BYTES"):
        monkeypatch.delenv(name, raising=False)
    defaults = load_config()
    assert defaults["TRUSTED_PROXY_HOPS"] == 0
    assert defaults["TRUSTED_HOSTS"] is None  # any host in development
    assert defaults["WEBHOOK_MAX_BYTES"] < defaults["MAX_CONTENT_LENGTH"]
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    monkeypatch.setenv("TRUSTED_HOSTS", "Shop.Example.org, .example.net")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2097152")
    monkeypatch.setenv("WEBHOOK_MAX_BYTES", "131072")
    config = load_config()
    assert config["TRUSTED_PROXY_HOPS"] == 1
    assert config["TRUSTED_HOSTS"] == ["shop.example.org", ".example.net"]
    assert (config["MAX_CONTENT_LENGTH"], config["WEBHOOK_MAX_BYTES"]) == (2097152, 131072)


def test_note_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOTE_ALLOW_EMOJI", "NOTE_BLOCKED_TERMS", "NOTE_REVIEW_TERMS"):
        monkeypatch.delenv(name, raising=False)
    defaults = load_config()
    assert defaults["NOTE_ALLOW_EMOJI"] is True
    assert "brigade" in defaults["NOTE_BLOCKED_TERMS"] and "grid ref" in defaults[
        "NOTE_BLOCKED_TERMS"]
    assert defaults["NOTE_REVIEW_TERMS"] == []

    monkeypatch.setenv("NOTE_ALLOW_EMOJI", "false")
    monkeypatch.setenv("NOTE_BLOCKED_TERMS", "")  # set but empty: no blocked terms at all
    monkeypatch.setenv("NOTE_REVIEW_TERMS", " hospital ,, front  line ")
    config = load_config()
    assert config["NOTE_ALLOW_EMOJI"] is False
    assert config["NOTE_BLOCKED_TERMS"] == []
    assert config["NOTE_REVIEW_TERMS"] == ["hospital", "front line"]


def _check_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT")}
    return subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "shop", "check-config"],
        env=clean | env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )


def test_check_config_prints_every_refusal_without_starting() -> None:
    result = _check_config({"APP_ENV": "PRODUCTION", "SECRET_KEY": "x",
                            "PUBLIC_URL": "http://shop.example.org"})
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "APP_ENV=production: the shop refuses to start" in out
    for name in ("SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PUBLIC_URL",
                 "DATABASE_URL", "REDIS_URL", "TRUSTED_HOSTS"):
        assert f"- {name} " in out
    assert "Traceback" not in result.stderr


def test_check_config_names_settings_that_do_not_parse() -> None:
    result = _check_config({"APP_ENV": "prod", "CART_MAX_QUANTITY": "ten"})
    assert result.returncode == 1
    assert "APP_ENV must be one of 'development' or 'production', not 'prod'" in result.stdout
    assert "CART_MAX_QUANTITY must be a whole number, not 'ten'" in result.stdout


def test_check_config_passes_good_production_settings() -> None:
    env = {
        "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
        "STRIPE_SECRET_KEY": GOOD["STRIPE_SECRET_KEY"],
        "STRIPE_WEBHOOK_SECRET": GOOD["STRIPE_WEBHOOK_SECRET"],
        "PUBLIC_URL": "https://shop.warmhands.org",
        "DATABASE_URL": "postgresql://shop@db.internal/shop",
        "REDIS_URL": "redis://redis.internal:6379/0", "TRUSTED_HOSTS": "shop.warmhands.org",
    }
    result = _check_config(env)
    assert result.returncode == 0, result.stdout
    assert "APP_ENV=production: the settings are fine" in result.stdout
    assert "warning: MAIL_SERVER is not set" in result.stdout


def test_impact_lines_are_read_per_preset_amount(monkeypatch: pytest.MonkeyPatch) -> None:
    from decimal import Decimal

    monkeypatch.setenv("DONATION_IMPACT", "18=Socks, and hand warmers | 65 = One winter kit")
    impacts = load_config()["DONATION_IMPACT"]
    assert impacts == {Decimal("18"): "Socks, and hand warmers",
                       Decimal("65"): "One winter kit"}
    monkeypatch.setenv("DONATION_IMPACT", "")
    assert load_config()["DONATION_IMPACT"] == {}
    monkeypatch.setenv("DONATION_IMPACT", "lots=Socks")
    with pytest.raises(ConfigError, match="DONATION_IMPACT"):
        load_config()
