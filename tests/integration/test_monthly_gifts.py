"""Monthly gifts: a subscription at Stripe; each paid invoice a gift with its own receipt."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import BadSignature, URLSafeSerializer

from shop.donations.models import MonthlyGift
from shop.extensions import db
from shop.orders.models import Order
from tests.integration.test_staff import manager  # noqa: F401  (fixture)
from tests.pdfs import pdf_text
from tests.servers import SmtpSink, text_of
from tests.support import (
    StripeStandIn,
    csrf_token,
    post_event,
    session_id_from,
    stripe_get,
    stripe_post,
)

MANAGE_LINK = re.compile(r"(http://shop\.test/monthly/\S+)")


def start_monthly(client: FlaskClient, **fields: Any) -> Any:
    data = {"amount": "18", "frequency": "monthly", "email": "monthly@example.org",
            "name": "Mona", "csrf_token": csrf_token(client, "/donate")}
    return client.post("/donate", data=data | fields)


def plan(app: Flask) -> MonthlyGift:
    with app.app_context():
        found: MonthlyGift = db.session.scalars(db.select(MonthlyGift)).one()
        db.session.expunge(found)
        return found


def gifts(app: Flask) -> list[tuple[str, int]]:
    with app.app_context():
        return [(o.status, o.total_cents) for o in db.session.scalars(
            db.select(Order).order_by(Order.id))]


def subscribe(client: FlaskClient, stand_in: StripeStandIn, **fields: Any) -> str:
    response = start_monthly(client, **fields)
    assert response.status_code == 303
    session_id = session_id_from(response.location)
    stand_in.pay(session_id, email="monthly@example.org", name="Mona")
    stand_in.deliver_all(client)
    return session_id


def test_a_monthly_gift_is_a_subscription_with_a_monthly_price(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    response = start_monthly(client, cover_fee="y")
    assert response.status_code == 303
    session = stripe_get(stripe_stand_in,
                         f"checkout/sessions/{session_id_from(response.location)}",
                         **{"expand[]": "line_items"})
    assert session["mode"] == "subscription"
    prices = [item["price"] for item in session["line_items"]["data"]]
    fee = plan(app).fee_cents
    assert fee > 0 and [p["unit_amount"] for p in prices] == [1800, fee]
    assert all(p["recurring"]["interval"] == "month" for p in prices)
    assert session["metadata"]["monthly_gift_id"] == str(plan(app).id)
    assert plan(app).status == "pending"


def test_the_first_invoice_makes_a_gift_with_a_receipt_and_a_signed_link(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    assert plan(app).status == "active" and plan(app).stripe_subscription_id
    assert gifts(app) == [("paid", 1800)]
    [receipt] = mailbox.to("monthly@example.org")
    text = text_of(receipt)
    assert "Monthly gift" in text and "TOTAL PAID: $18.00" in text
    link = MANAGE_LINK.search(text)
    assert link, text
    page = client.get(link.group(1).removeprefix("http://shop.test")).get_data(as_text=True)
    assert 'data-status="active"' in page and page.count('data-testid="monthly-gift-row"') == 1
    # The same invoice delivered again makes no second gift.
    post_event(client, stripe_stand_in.event("invoice.paid"))
    assert gifts(app) == [("paid", 1800)]
    # Its PDF carries the payment's reference (the payment, or else the invoice it paid).
    [attachment] = list(receipt.iter_attachments())
    assert re.search(r"Payment reference: (pi|in)_\w+", pdf_text(attachment.get_content()))


def test_each_month_is_a_gift_of_its_own_and_a_failed_month_is_told(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    manager: FlaskClient,  # noqa: F811
) -> None:
    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    seen = len(stripe_stand_in.events())
    stripe_stand_in.cycle(subscription, "paid")
    seen = stripe_stand_in.deliver_all(client, seen)
    assert gifts(app) == [("paid", 1800), ("paid", 1800)]
    assert len(mailbox.to("monthly@example.org")) == 2

    stripe_stand_in.cycle(subscription, "failed")
    stripe_stand_in.deliver_all(client, seen)
    assert plan(app).status == "past_due"
    assert gifts(app)[-1] == ("awaiting_payment", 1800)
    notice = mailbox.to("monthly@example.org")[-1]
    assert "could not be charged" in str(notice["Subject"])
    assert MANAGE_LINK.search(text_of(notice))
    listing = manager.get("/staff/monthly").get_data(as_text=True)
    assert 'data-status="past_due"' in listing and "monthly@example.org" in listing


def test_the_donor_cancels_through_the_signed_link(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    link = MANAGE_LINK.search(text_of(mailbox.to("monthly@example.org")[0]))
    assert link
    path = link.group(1).removeprefix("http://shop.test")
    seen = len(stripe_stand_in.events())
    # The page's button only asks: "Cancel your $18.00 monthly gift?"; nothing changes yet.
    asked = client.get(f"{path}/cancel").get_data(as_text=True)
    assert "Cancel your $18.00 monthly gift?" in asked
    token = csrf_token(client, f"{path}/cancel")
    unconfirmed = client.post(f"{path}/cancel", data={"csrf_token": token},
                              follow_redirects=True)
    assert "Cancel your $18.00 monthly gift?" in unconfirmed.get_data(as_text=True)
    assert plan(app).status == "active"
    response = client.post(f"{path}/cancel", data={"csrf_token": token, "confirm": "yes"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Your monthly gift is cancelled" in page
    # The page no longer reads as active.
    assert "Your monthly gift has ended" in page and "every month" not in page
    assert plan(app).status == "cancelled"
    subscription = stripe_get(stripe_stand_in, f"subscriptions/{plan(app).stripe_subscription_id}")
    assert subscription["status"] == "canceled"
    stripe_stand_in.deliver_all(client, seen)  # customer.subscription.deleted changes nothing
    assert plan(app).status == "cancelled"
    # The donor gets one confirmation.
    [confirmation] = mailbox.to("monthly@example.org", "monthly-cancelled")
    text = " ".join(text_of(confirmation).split())
    assert "As you asked, we have cancelled your monthly gift of $18.00" in text
    assert "No further payments will be taken" in text
    assert 'data-testid="monthly-cancel-button"' not in client.get(path).get_data(as_text=True)


def test_staff_cancel_a_plan_and_the_donor_is_told(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    manager: FlaskClient,  # noqa: F811
) -> None:
    subscribe(client, stripe_stand_in)
    page = f"/staff/monthly/{plan(app).id}"
    assert 'data-testid="staff-monthly-cancel-button"' in manager.get(page).get_data(
        as_text=True)
    response = manager.post(f"{page}/cancel", data={"csrf_token": csrf_token(manager, page)},
                            follow_redirects=True)
    assert ("The monthly gift of $18.00 from monthly@example.org is cancelled"
            in response.get_data(as_text=True))
    assert plan(app).status == "cancelled"
    subscription = stripe_get(stripe_stand_in, f"subscriptions/{plan(app).stripe_subscription_id}")
    assert subscription["status"] == "canceled"
    [confirmation] = mailbox.to("monthly@example.org", "monthly-cancelled")
    assert "Our team has cancelled your monthly gift of $18.00" in text_of(confirmation)


def test_a_tampered_link_finds_nothing(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    link = MANAGE_LINK.search(text_of(mailbox.to("monthly@example.org")[0]))
    assert link
    path = link.group(1).removeprefix("http://shop.test")
    assert client.get(path[:-3] + "abc").status_code == 404
    assert client.get("/monthly/1").status_code == 404


def test_the_link_carries_a_random_token_not_the_email_and_old_links_still_lead_there(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    link = MANAGE_LINK.search(text_of(mailbox.to("monthly@example.org")[0]))
    assert link
    token = link.group(1).rsplit("/", 1)[1]
    assert token == plan(app).manage_token and len(token) >= 32
    # Not the signed [id, email] of before, which anyone could read the email out of.
    serializer = URLSafeSerializer(app.config["SECRET_KEY"], salt="monthly-gift-link")
    with pytest.raises(BadSignature):
        serializer.loads(token)
    # A link sent before, signed over the plan's id and email, redirects to the new one.
    signed = serializer.dumps([plan(app).id, "monthly@example.org"])
    old = client.get(f"/monthly/{signed}")
    assert old.status_code == 301 and old.location.endswith(f"/monthly/{token}")


def test_returning_before_the_webhooks_shows_the_plan_active_with_its_first_gift(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    response = start_monthly(client)
    session_id = session_id_from(response.location)
    stripe_stand_in.pay(session_id)
    session = stripe_get(stripe_stand_in, f"checkout/sessions/{session_id}")
    back = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
    page = client.get(back.removeprefix("http://shop.test")).get_data(as_text=True)
    assert 'data-status="active"' in page
    assert gifts(app) == [("paid", 1800)]
    stripe_stand_in.deliver_all(client)
    assert gifts(app) == [("paid", 1800)]


def test_a_subscription_ended_by_stripe_ends_the_plan(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    seen = len(stripe_stand_in.events())
    import requests

    requests.delete(
        f"{stripe_stand_in.url}/v1/subscriptions/{plan(app).stripe_subscription_id}",
        headers={"Authorization": "Bearer sk_test_suite"}, timeout=10,
    ).raise_for_status()
    stripe_stand_in.deliver_all(client, seen)
    assert plan(app).status == "cancelled"
    # No one asked for it: no confirmation of a cancellation.
    assert mailbox.to("monthly@example.org", "monthly-cancelled") == []


def test_a_failed_payment_reported_after_the_plan_ended_sends_nothing_and_waits_for_nothing(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    subscribe(client, stripe_stand_in)
    subscription = plan(app).stripe_subscription_id
    assert subscription
    seen = len(stripe_stand_in.events())
    stripe_stand_in.cycle(subscription, "failed")
    stripe_stand_in.end_subscription(subscription)
    late = stripe_stand_in.events()[seen:]
    ended = [e for e in late if e["type"] == "customer.subscription.deleted"]
    assert ended and any(e["type"] == "invoice.payment_failed" for e in late)
    # The plan's end arrives first; the failed payment after it.
    for event in ended + [e for e in late if e not in ended]:
        assert post_event(client, event).status_code == 200
    assert plan(app).status == "cancelled"
    assert gifts(app) == [("paid", 1800)]  # no gift left waiting for its payment
    assert [m["X-Shop-Message"] for m in mailbox.to("monthly@example.org")] == ["receipt"]


def test_a_monthly_gift_refunded_in_stripes_dashboard_reaches_its_gift_order(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    subscribe(client, stripe_stand_in)
    [invoice_event] = stripe_stand_in.events("invoice.paid")
    [payment] = stripe_get(stripe_stand_in, "invoice_payments",
                           invoice=invoice_event["data"]["object"]["id"])["data"]
    stripe_post(stripe_stand_in, "refunds",
                payment_intent=payment["payment"]["payment_intent"])
    response = post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    assert response.status_code == 200 and response.get_json()["outcome"] == "processed"
    assert gifts(app) == [("refunded", 1800)]
