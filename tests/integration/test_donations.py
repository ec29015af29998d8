"""The donation form: presets, other amounts, fee cover, dedications, anonymity, direct checkout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.cart.models import CartLine
from shop.donations.models import MonthlyGift
from shop.donations.service import fee_to_cover
from shop.extensions import db
from shop.orders.models import Order
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, csrf_token, post_event, session_id_from, stripe_get


def tag(html: str, testid: str) -> str:
    """The HTML tag carrying this data-testid."""
    match = re.search(rf'<[^<>]*data-testid="{testid}"[^<>]*>', html)
    assert match, f"no {testid}"
    return match.group(0)


def give(client: FlaskClient, **fields: Any) -> Any:
    data = {"amount": "36", "frequency": "once", "csrf_token": csrf_token(client, "/donate")}
    return client.post("/donate", data=data | fields)


def counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return (len(db.session.scalars(db.select(CartLine)).all()),
                len(db.session.scalars(db.select(Order)).all()),
                len(db.session.scalars(db.select(MonthlyGift)).all()))


def the_order(app: Flask) -> Order:
    with app.app_context():
        order: Order = db.session.scalars(db.select(Order)).one()
        _ = [line.name for line in order.lines]
        db.session.expunge_all()
        return order


def test_the_form_offers_presets_as_an_accessible_radio_group(client: FlaskClient) -> None:
    html = client.get("/donate").get_data(as_text=True)
    assert '<fieldset class="amounts"' in html and "<legend>Amount <span" in html
    for preset in ("18", "36", "100", "180"):
        assert f'type="radio" name="amount" value="{preset}"' in html
    # Each preset tile says what the amount does (DONATION_IMPACT).
    assert "A thermal base layer for one soldier" in html
    assert 'name="other_amount"' in html and 'value="monthly"' in html
    assert "2.9% + $0.30" in html
    compact = client.get("/").get_data(as_text=True)
    assert 'data-testid="compact-donation-form"' in compact and "<legend>" in compact


@pytest.mark.parametrize(("amount", "cents"), [(1000, 1000), (3600, 3600), (10000, 10000)])
def test_covering_the_fee_leaves_the_charity_the_whole_gift(amount: int, cents: int) -> None:
    from decimal import ROUND_HALF_UP, Decimal

    fee = fee_to_cover(amount, Decimal("2.9"), 30)
    total = amount + fee
    taken = (Decimal(total) * Decimal("0.029")).quantize(Decimal(1), ROUND_HALF_UP) + 30
    assert total - taken >= cents
    assert total - taken - cents <= 1  # never asks for more than a cent too much


def test_a_gift_without_email_goes_to_the_cart_with_its_fee_and_dedication(
    app: Flask, client: FlaskClient,
) -> None:
    response = give(client, amount="other", other_amount="50", cover_fee="y",
                    dedication_type="memory", dedication_name="Grandpa Joe")
    assert response.status_code == 302 and response.location.endswith("/cart")
    fee = fee_to_cover(5000, __import__("decimal").Decimal("2.9"), 30)
    html = client.get("/cart").get_data(as_text=True)
    assert "In memory of Grandpa Joe" in html
    assert f"Gift $50.00 + ${fee / 100:.2f} to cover the processing fee" in html


def test_a_gift_with_email_goes_straight_to_checkout_as_a_donation(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    response = give(client, amount="100", cover_fee="y", email="giver@example.org",
                    name="Gil", anonymous="y", dedication_type="honor",
                    dedication_name="Sgt. Rivera", dedication_email="rivera.family@example.org")
    assert response.status_code == 303
    assert response.location.startswith(stripe_stand_in.url + "/c/pay/")
    order = the_order(app)
    fee = order.total_cents - 10000
    assert fee == fee_to_cover(10000, __import__("decimal").Decimal("2.9"), 30)
    assert [(line.name, line.unit_price_cents) for line in order.lines] == [
        ("Donation", 10000), ("Processing fee, covered by you", fee)]
    assert order.anonymous and order.dedication_text == "In honor of Sgt. Rivera"
    [session] = stripe_stand_in.sessions()
    assert session["submit_type"] == "donate" and session["amount_total"] == 10000 + fee
    again = give(client, amount="100", cover_fee="y", email="giver@example.org", name="Gil",
                 anonymous="y", dedication_type="honor", dedication_name="Sgt. Rivera",
                 dedication_email="rivera.family@example.org")
    assert again.location == response.location  # a double click reuses the checkout
    assert len(stripe_stand_in.sessions()) == 1


def test_the_family_hears_of_a_dedicated_gift_without_the_amount(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    response = give(client, amount="36", email="giver@example.org", name="Gil",
                    dedication_type="honor", dedication_name="Sgt. Rivera",
                    dedication_email="rivera.family@example.org")
    stripe_stand_in.pay(session_id_from(response.location))
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    [notice] = mailbox.to("rivera.family@example.org")
    assert "in honor of Sgt. Rivera" in str(notice["Subject"])
    assert "Gil has made a gift" in text_of(notice) and "$" not in text_of(notice)
    [receipt] = mailbox.to("giver@example.org")
    assert "In honor of Sgt. Rivera" in text_of(receipt)


def test_an_anonymous_donor_is_not_named_to_the_family(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    response = give(client, amount="36", email="giver@example.org", name="Gil", anonymous="y",
                    dedication_type="memory", dedication_name="Ann",
                    dedication_email="ann.family@example.org")
    stripe_stand_in.pay(session_id_from(response.location))
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    [notice] = mailbox.to("ann.family@example.org")
    assert "Someone has made a gift" in text_of(notice) and "Gil" not in text_of(notice)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "4.99"}, "smallest gift"),
        ({"amount": "100001"}, "largest gift"),
        ({"amount": "10.999"}, "2 decimal places"),
        ({"amount": "-5"}, "negative"),
        ({"amount": "abc"}, "as a number"),
        ({"amount": "1e3"}, "as a number"),
        ({"amount": "other", "other_amount": ""}, "enter an amount"),
        ({"frequency": "weekly"}, "once or monthly"),
        ({"frequency": "monthly"}, "monthly gift needs it"),
        ({"frequency": "monthly", "email": "x@example.org", "amount": "2"}, "smallest gift"),
        ({"dedication_type": "honor", "dedication_name": ""}, "name of the person"),
        ({"dedication_type": "boss", "dedication_name": "X"}, "in honor of"),
        ({"dedication_type": "honor", "dedication_name": "X", "dedication_email": "nope"},
         "dedication email is not a valid"),
        ({"email": "not-an-email"}, "valid email"),
        ({"price_cents": "1"}, "Prices come from the shop"),
    ],
)
def test_bad_gifts_get_a_clear_message_and_nothing_is_written_or_charged(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
    fields: dict[str, str], message: str,
) -> None:
    response = give(client, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts(app) == (0, 0, 0)
    assert stripe_stand_in.sessions() == []


def test_stripe_down_at_a_direct_gift_shows_the_friendly_page(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    stripe_stand_in.fault(method="POST", path_prefix="/v1/checkout/sessions", status=500)
    response = give(client, email="giver@example.org")
    assert response.status_code == 503
    assert "Nothing was charged" in response.get_data(as_text=True)
    assert the_order(app).status == "pending"


def test_the_session_never_carries_a_note_or_dedication_to_stripe(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    response = give(client, email="giver@example.org", dedication_type="honor",
                    dedication_name="Private Person", dedication_email="pp@example.org")
    session = stripe_get(stripe_stand_in,
                         f"checkout/sessions/{session_id_from(response.location)}",
                         **{"expand[]": "line_items"})
    assert "Private Person" not in str(session) and "pp@example.org" not in str(session)


# --- what the donor typed is what counts ------------------------------------------------


@pytest.mark.parametrize("preset", ["36", "18", "other", ""])
def test_a_typed_other_amount_is_the_gift_whatever_preset_is_still_checked(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, preset: str,
) -> None:
    response = give(client, amount=preset, other_amount="75", email="giver@example.org")
    assert response.status_code == 303
    [session] = stripe_stand_in.sessions()
    assert session["amount_total"] == 7500
    assert the_order(app).total_cents == 7500


def test_the_storefronts_short_form_charges_the_typed_other_amount_too(
    app: Flask, client: FlaskClient,
) -> None:
    token = csrf_token(client, "/")
    response = client.post("/donate", data={"csrf_token": token, "amount": "36",
                                            "other_amount": "75", "frequency": "once"})
    assert response.status_code == 302
    html = client.get("/cart").get_data(as_text=True)
    assert 'data-testid="cart-total">$75.00<' in html


def test_a_refused_other_amount_shows_other_checked_with_what_was_typed(
    client: FlaskClient,
) -> None:
    response = give(client, amount="36", other_amount="2")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "smallest gift" in html
    assert "checked" in tag(html, "preset-other") and "checked" not in tag(html, "preset-36")
    assert 'value="2"' in tag(html, "other-amount")


def test_a_dedication_name_without_honour_or_memory_is_asked_for_not_dropped(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    response = give(client, amount="other", other_amount="40", dedication_type="",
                    dedication_name="Sgt. Dana Rivera", email="giver@example.org",
                    name="Gil", cover_fee="y")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“in honor of” or “in memory of” for Sgt. Dana Rivera" in html
    # Everything the donor typed is still there.
    assert 'value="Sgt. Dana Rivera"' in html and 'value="giver@example.org"' in html
    assert 'value="40"' in html and 'value="Gil"' in html
    assert counts(app) == (0, 0, 0) and stripe_stand_in.sessions() == []
    alone = give(client, dedication_type="", dedication_email="family@example.org")
    assert alone.status_code == 422 and "in memory of" in alone.get_data(as_text=True)


def test_line_breaks_in_names_become_spaces_and_the_family_still_hears(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    response = give(client, amount="36", email=" giver@example.org\r\n", name="Gil\r\nBcc: x",
                    dedication_type="honor", dedication_name="Sgt.\nDana\u2028Rivera\x00",
                    dedication_email="rivera.family@example.org\n")
    assert response.status_code == 303
    stripe_stand_in.pay(session_id_from(response.location))
    post_event(client, stripe_stand_in.event("checkout.session.completed"))
    [notice] = mailbox.to("rivera.family@example.org")
    assert str(notice["Subject"]).endswith("in honor of Sgt. Dana Rivera")
    [receipt] = mailbox.to("giver@example.org")
    assert "Gil Bcc: x" in text_of(receipt) and "In honor of Sgt. Dana Rivera" in text_of(receipt)
    order = the_order(app)
    assert (order.name, order.email) == ("Gil Bcc: x", "giver@example.org")


def test_without_javascript_the_fee_label_states_no_fee_for_an_amount_not_chosen(
    client: FlaskClient,
) -> None:
    html = client.get("/donate").get_data(as_text=True)
    assert re.search(r'<strong data-testid="fee-amount"[^>]*>\s*</strong>', html)
    assert "data-fee-line hidden" in html
    refused = give(client, amount="36", other_amount="50", cover_fee="y", frequency="weekly")
    fee = fee_to_cover(5000, __import__("decimal").Decimal("2.9"), 30)
    assert refused.status_code == 422
    assert f'data-testid="fee-amount" aria-live="polite">${fee / 100:.2f}<' in \
        refused.get_data(as_text=True)


def test_a_refused_gift_names_each_field_from_the_summary_and_the_field(
    client: FlaskClient,
) -> None:
    response = give(client, amount="2", email="not-an-email", frequency="monthly")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html[html.index('data-testid="form-errors"'):]
    summary = summary[:summary.index("</div>")]
    assert '<a href="#d-other-amount"' in summary and '<a href="#email"' in summary
    assert "autofocus" in tag(html, "form-errors")
    for testid, target in (("other-amount", "d-other-amount"), ("donor-email", "email")):
        field = tag(html, testid)
        assert 'aria-invalid="true"' in field
        assert f'aria-describedby="{target}-error"' in field
        assert f'id="{target}-error"' in html
    assert "smallest gift" in html[html.index('id="d-other-amount-error"'):][:300]


def test_donor_pages_carry_no_inline_script(client: FlaskClient) -> None:
    """A strict Content-Security-Policy allows scripts from files only."""
    for path in ("/", "/donate", "/cart"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handlers
    html = client.get("/donate").get_data(as_text=True)
    assert " style=" not in html and "<style" not in html
