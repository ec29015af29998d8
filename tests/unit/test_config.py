"""Production refuses to start on placeholders or pointed at the local Stripe stand-in."""

import pytest

from shop.config import (
    DEV_SECRET_KEY,
    DEV_STRIPE_SECRET_KEY,
    DEV_STRIPE_WEBHOOK_SECRET,
    ConfigError,
    check_production,
    load_config,
)

GOOD = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-long-random-secret",
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_real",
    "STRIPE_API_BASE": None,
}


def test_real_production_settings_start() -> None:
    check_production(GOOD)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": DEV_STRIPE_SECRET_KEY}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "pk_live_publishable"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": DEV_STRIPE_WEBHOOK_SECRET}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "stand-in"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_production(GOOD | override)


def test_development_runs_on_placeholders() -> None:
    check_production({"APP_ENV": "development", "SECRET_KEY": DEV_SECRET_KEY})


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
