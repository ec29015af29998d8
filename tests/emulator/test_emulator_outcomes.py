"""Later outcomes: invoices paid after their plan ended, refunds that fail, every dispute status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe

from .helpers import payment_params, subscription_params


def _events(ctl: Callable[..., Any], since: int = 0) -> list[tuple[str, dict[str, Any]]]:
    return [(e["type"], e["data"]["object"]) for e in ctl("GET", "/events")["data"][since:]]


def _charge(client: stripe.StripeClient, ctl: Callable[..., Any]) -> stripe.Charge:
    session = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {})
    intent = client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(session.id).payment_intent),
        params={"expand": ["latest_charge"]})
    assert isinstance(intent.latest_charge, stripe.Charge)
    return intent.latest_charge


def test_an_open_invoice_is_paid_after_its_subscription_ended(
    client: stripe.StripeClient, ctl: Callable[..., Any],
) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    ctl("POST", f"/checkout/sessions/{session.id}/pay", {"email": "d@example.com"})
    sub = str(client.v1.checkout.sessions.retrieve(session.id).subscription)
    unpaid = ctl("POST", f"/subscriptions/{sub}/cycle", {"outcome": "failed"})
    assert unpaid["status"] == "open"
    seen = len(ctl("GET", "/events")["data"])
    ended = ctl("POST", f"/subscriptions/{sub}/end", {})
    assert ended["cancellation_details"]["reason"] == "payment_failed"
    paid = ctl("POST", f"/invoices/{unpaid['id']}/pay", {})
    assert paid["status"] == "paid" and paid["amount_paid"] == 1000
    assert [t for t, _ in _events(ctl, seen)] == ["customer.subscription.deleted", "invoice.paid"]
    assert client.v1.subscriptions.retrieve(sub).status == "canceled"
    [payment] = client.v1.invoice_payments.list(params={"invoice": unpaid["id"]}).data
    assert payment.payment.payment_intent
    ctl("POST", f"/invoices/{unpaid['id']}/pay", {}, expect=400)


def test_a_refund_that_succeeded_can_fail_later(
    client: stripe.StripeClient, ctl: Callable[..., Any],
) -> None:
    charge = _charge(client, ctl)
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 2000})
    assert refund.status == "succeeded"
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 2000
    seen = len(ctl("GET", "/events")["data"])
    ctl("POST", f"/refunds/{refund.id}/status", {"status": "failed"})
    failed = client.v1.refunds.retrieve(refund.id)
    assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
    assert failed.failure_balance_transaction
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 0
    assert [t for t, _ in _events(ctl, seen)] == ["refund.failed", "refund.updated",
                                                  "charge.refund.updated"]
    ctl("POST", f"/refunds/{refund.id}/status", {"status": "succeeded"}, expect=400)


def test_a_pending_refund_settles_either_way(
    client: stripe.StripeClient, ctl: Callable[..., Any],
) -> None:
    charge = _charge(client, ctl)
    ctl("POST", "/refunds/pending_next", {"count": 2})
    first = client.v1.refunds.create(params={"charge": charge.id, "amount": 1000})
    second = client.v1.refunds.create(params={"charge": charge.id, "amount": 1000})
    third = client.v1.refunds.create(params={"charge": charge.id, "amount": 1000})
    assert (first.status, second.status, third.status) == ("pending", "pending", "succeeded")
    ctl("POST", f"/refunds/{first.id}/status", {"status": "succeeded"})
    ctl("POST", f"/refunds/{second.id}/status", {"status": "canceled"})
    assert client.v1.charges.retrieve(charge.id).amount_refunded == 2000


@pytest.mark.parametrize(("start", "steps", "end", "refunded"), [
    ("warning_needs_response", ["warning_under_review"], "warning_closed", 0),
    ("needs_response", ["under_review"], "won", 0),
    ("needs_response", [], "lost", 0),
    ("warning_needs_response", [], "prevented", 6500),
])
def test_a_dispute_ends_with_each_status(
    client: stripe.StripeClient, ctl: Callable[..., Any], start: str, steps: list[str],
    end: str, refunded: int,
) -> None:
    charge = _charge(client, ctl)
    dispute = ctl("POST", f"/charges/{charge.id}/dispute", {"status": start})
    assert dispute["status"] == start
    for step in steps:
        ctl("POST", f"/disputes/{dispute['id']}/update", {"status": step})
    seen = len(ctl("GET", "/events")["data"])
    closed = ctl("POST", f"/disputes/{dispute['id']}/close", {"outcome": end})
    assert client.v1.disputes.retrieve(closed["id"]).status == end
    types = [t for t, _ in _events(ctl, seen)]
    assert types[-1] == "charge.dispute.closed"
    assert ("charge.refunded" in types) == (end == "prevented")
    assert client.v1.charges.retrieve(charge.id).amount_refunded == refunded


def test_a_lost_dispute_can_be_appealed_and_won(
    client: stripe.StripeClient, ctl: Callable[..., Any],
) -> None:
    dispute = ctl("POST", f"/charges/{_charge(client, ctl).id}/dispute", {})
    ctl("POST", f"/disputes/{dispute['id']}/close", {"outcome": "lost"})
    ctl("POST", f"/disputes/{dispute['id']}/update", {"status": "appeal_needs_response"})
    ctl("POST", f"/disputes/{dispute['id']}/update", {"status": "appeal_under_review"})
    ctl("POST", f"/disputes/{dispute['id']}/close", {"outcome": "won"})
    types = [t for t, _ in _events(ctl)]
    assert types[-4:] == ["charge.dispute.closed", "charge.dispute.updated",
                          "charge.dispute.updated", "charge.dispute.closed"]
    ctl("POST", f"/disputes/{dispute['id']}/close", {"outcome": "lost"}, expect=400)
    ctl("POST", f"/disputes/{dispute['id']}/update", {"status": "won"}, expect=400)
