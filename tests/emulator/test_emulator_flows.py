"""Hosted checkout page, payments, refunds, disputes and subscriptions."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from .helpers import payment_params, subscription_params


def _paid_session(client: stripe.StripeClient, ctl: Callable[..., Any],
                  **overrides: Any) -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(params=payment_params(**overrides))
    ctl("POST", f"/checkout/sessions/{session.id}/pay",
        {"email": "jenny@example.com", "name": "Jenny Rosen"})
    return client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]})


def test_hosted_page_shows_items_and_pays(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params(
        customer_email="jenny@example.com"))
    assert session.url is not None
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200
    for text in ("Care package", "$50.00", "$15.00", "$65.00", 'data-testid="emulator-pay"',
                 'data-testid="emulator-pay-delayed"', 'data-testid="emulator-decline"',
                 'href="https://shop.example/cancel"', 'value="jenny@example.com"'):
        assert text in page.text
    resp = requests.post(session.url, data={"action": "pay", "email": "jenny@example.com",
                                            "name": "Jenny Rosen"},
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"https://shop.example/success?session_id={session.id}"
    paid = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]})
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    assert paid.customer_details is not None
    assert paid.customer_details.email == "jenny@example.com"
    pi = paid.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    assert (pi.status, pi.amount, pi.metadata.to_dict()) == ("succeeded", 6500,
                                                             {"order_id": "1042"})
    charge = pi.latest_charge
    assert isinstance(charge, stripe.Charge)
    assert charge.paid and charge.captured and charge.payment_intent == pi.id
    assert charge.billing_details.name == "Jenny Rosen"
    again = requests.post(session.url, data={"action": "pay"}, allow_redirects=False, timeout=5)
    assert again.status_code == 303
    assert len(client.v1.charges.list(params={"payment_intent": pi.id}).data) == 1
    done = requests.get(session.url, timeout=5)
    assert "already been completed" in done.text and "emulator-pay" not in done.text


def test_hosted_decline_leaves_session_open(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    assert session.url is not None
    resp = requests.post(session.url, data={"action": "decline", "email": "a@example.com"},
                         timeout=5)
    assert resp.status_code == 402
    assert 'data-testid="emulator-error"' in resp.text and "Your card was declined." in resp.text
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert client.v1.events.list().data == []


def test_hosted_page_unknown_and_expired(client: stripe.StripeClient, emulator: Any) -> None:
    assert requests.get(f"{emulator.url}/c/pay/cs_test_nope", timeout=5).status_code == 404
    session = client.v1.checkout.sessions.create(params=payment_params())
    client.v1.checkout.sessions.expire(session.id)
    page = requests.get(f"{emulator.url}/c/pay/{session.id}", timeout=5)
    assert "expired" in page.text and "emulator-pay" not in page.text


def test_delayed_payment_then_settle(client: stripe.StripeClient,
                                     ctl: Callable[..., Any]) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    assert session.url is not None
    resp = requests.post(session.url, data={"action": "delayed", "email": "b@example.com"},
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 303
    pending = client.v1.checkout.sessions.retrieve(session.id)
    assert (pending.status, pending.payment_status) == ("complete", "unpaid")
    assert isinstance(pending.payment_intent, str)
    assert client.v1.payment_intents.retrieve(pending.payment_intent).status == "processing"
    # The hosted page offers to settle the transfer now (the demo's button).
    page = requests.get(session.url, timeout=5).text
    assert 'data-testid="emulator-settle"' in page and "not arrived yet" in page
    resp = requests.post(session.url, data={"action": "settle"}, allow_redirects=False,
                         timeout=5)
    assert resp.headers["Location"] == f"https://shop.example/success?session_id={session.id}"
    settled = client.v1.checkout.sessions.retrieve(session.id)
    assert "emulator-settle" not in requests.get(session.url, timeout=5).text
    assert settled.payment_status == "paid"
    types = [e.type for e in client.v1.events.list().data]
    assert types[0] == "checkout.session.async_payment_succeeded"
    assert "checkout.session.completed" in types

    other = client.v1.checkout.sessions.create(params=payment_params())
    ctl("POST", f"/checkout/sessions/{other.id}/pay", {"outcome": "delayed"})
    failed = ctl("POST", f"/checkout/sessions/{other.id}/settle", {"outcome": "failed"})
    assert (failed["status"], failed["payment_status"]) == ("complete", "unpaid")
    assert client.v1.events.list(params={"limit": 1}).data[0].type == \
        "checkout.session.async_payment_failed"
    pi = client.v1.payment_intents.retrieve(failed["payment_intent"])
    assert pi.status == "requires_payment_method"


def test_customer_creation_always(client: stripe.StripeClient, ctl: Callable[..., Any]) -> None:
    session = _paid_session(client, ctl, customer_creation="always")
    assert isinstance(session.customer, str) and session.customer.startswith("cus_")
    customer = client.v1.customers.retrieve(session.customer)
    assert (customer.email, customer.name) == ("jenny@example.com", "Jenny Rosen")
    pi = session.payment_intent
    assert isinstance(pi, stripe.PaymentIntent) and pi.customer == customer.id


def test_partial_and_full_refunds(client: stripe.StripeClient, ctl: Callable[..., Any]) -> None:
    session = _paid_session(client, ctl)
    pi = session.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    part = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 1500, "reason": "requested_by_customer",
                "metadata": {"order_id": "1042"}},
        options={"idempotency_key": "refund:1042:1"})
    assert (part.status, part.amount, part.payment_intent) == ("succeeded", 1500, pi.id)
    charge = client.v1.charges.retrieve(part.charge)  # type: ignore[arg-type]
    assert (charge.amount_refunded, charge.refunded) == (1500, False)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 9999})
    assert err.value.code == "amount_too_large"
    rest = client.v1.refunds.create(params={"charge": charge.id})
    assert rest.amount == 5000
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (6500, True)
    assert [r.id for r in charge.refunds.data] == [rest.id, part.id]  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert err.value.code == "charge_already_refunded"
    events = client.v1.events.list(params={"type": "charge.refunded"}).data
    first = events[-1]
    assert first.request.idempotency_key == "refund:1042:1"  # type: ignore[union-attr]
    assert first.data.previous_attributes.to_dict() == {"amount_refunded": 0, "refunded": False}  # type: ignore[union-attr]
    assert first.data.object.amount_refunded == 1500
    assert [r.id for r in client.v1.refunds.list(params={"payment_intent": pi.id}).data] == [
        rest.id, part.id]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert err.value.code == "resource_missing"


def test_concurrent_refunds_never_exceed_the_charge(client: stripe.StripeClient,
                                                    ctl: Callable[..., Any]) -> None:
    session = _paid_session(client, ctl)
    pi = session.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    outcomes: list[str] = []

    def refund() -> None:
        try:
            client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
            outcomes.append("ok")
        except stripe.InvalidRequestError as exc:
            outcomes.append(str(exc.code))

    threads = [threading.Thread(target=refund) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 13
    assert client.v1.charges.retrieve(str(pi.latest_charge.id)).amount_refunded == 6500  # type: ignore[union-attr]


def test_dispute_lifecycle(client: stripe.StripeClient, ctl: Callable[..., Any]) -> None:
    session = _paid_session(client, ctl)
    pi = session.payment_intent
    assert isinstance(pi, stripe.PaymentIntent)
    charge_id = pi.latest_charge.id  # type: ignore[union-attr]
    dispute = ctl("POST", f"/charges/{charge_id}/dispute", {"reason": "fraudulent"})
    assert (dispute["status"], dispute["amount"], dispute["payment_intent"]) == (
        "needs_response", 6500, pi.id)
    assert client.v1.charges.retrieve(charge_id).disputed is True
    event = client.v1.events.list(params={"type": "charge.dispute.created"}).data[0]
    assert isinstance(event.data.object, stripe.Dispute)
    assert event.data.object.evidence_details.due_by > event.created  # type: ignore[operator]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert err.value.code == "charge_disputed"
    closed = ctl("POST", f"/disputes/{dispute['id']}/close", {"outcome": "lost"})
    assert closed["status"] == "lost"
    assert client.v1.disputes.retrieve(dispute["id"]).status == "lost"
    assert [d.id for d in client.v1.disputes.list(params={"charge": charge_id}).data] == [
        dispute["id"]]
    assert client.v1.events.list(params={"limit": 1}).data[0].type == "charge.dispute.closed"


def test_subscription_pay_cycle_cancel(client: stripe.StripeClient,
                                       ctl: Callable[..., Any]) -> None:
    session = client.v1.checkout.sessions.create(params=subscription_params())
    assert session.url is not None
    page = requests.get(session.url, timeout=5).text
    assert "per month" in page and "Subscribe" in page
    resp = requests.post(session.url, data={"action": "pay", "email": "d@example.com",
                                            "name": "Dana Donor"},
                         allow_redirects=False, timeout=5)
    assert resp.status_code == 303 and session.id in resp.headers["Location"]
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status, done.payment_intent) == ("complete", "paid", None)
    assert isinstance(done.subscription, str) and isinstance(done.invoice, str)
    sub = client.v1.subscriptions.retrieve(done.subscription)
    assert (sub.status, sub.customer, sub.latest_invoice) == ("active", done.customer,
                                                              done.invoice)
    assert sub.metadata.to_dict() == {"donor_ref": "donor_77"}
    item = sub["items"].data[0]
    assert item.price.recurring.interval == "month"
    assert 28 * 86400 <= item.current_period_end - item.current_period_start <= 31 * 86400
    first = client.v1.invoices.retrieve(done.invoice)
    assert (first.status, first.billing_reason, first.amount_paid) == (
        "paid", "subscription_create", 1000)
    assert first.parent.subscription_details.subscription == sub.id  # type: ignore[union-attr]
    assert client.v1.customers.retrieve(str(done.customer)).email == "d@example.com"

    renewal = ctl("POST", f"/subscriptions/{sub.id}/cycle", {"outcome": "paid"})
    assert (renewal["billing_reason"], renewal["status"]) == ("subscription_cycle", "paid")
    assert renewal["lines"]["data"][0]["period"]["start"] == item.current_period_end
    failed = ctl("POST", f"/subscriptions/{sub.id}/cycle", {"outcome": "failed"})
    assert (failed["status"], failed["attempt_count"]) == ("open", 1)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    invoices = client.v1.invoices.list(params={"subscription": sub.id}).data
    assert [i.id for i in invoices] == [failed["id"], renewal["id"], first.id]
    types = [e.type for e in client.v1.events.list().data]
    assert "invoice.payment_failed" in types and types.count("invoice.paid") == 2

    canceled = client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.canceled_at and canceled.ended_at
    assert canceled.cancellation_details.reason == "cancellation_requested"  # type: ignore[union-attr]
    deleted = client.v1.events.list(params={"type": "customer.subscription.deleted"}).data[0]
    assert isinstance(deleted.data.object, stripe.Subscription)
    with pytest.raises(stripe.InvalidRequestError, match="already been canceled"):
        client.v1.subscriptions.cancel(sub.id)
