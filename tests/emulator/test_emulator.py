"""The /v1 API through the real stripe-python client: sessions, lists, idempotency, errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
import stripe

from stripe_emulator import EmulatorServer

from .helpers import payment_params, subscription_params

AUTH = {"Authorization": "Bearer sk_test_emulator"}


def test_create_payment_session_echoes_params(client: stripe.StripeClient,
                                              emulator: EmulatorServer) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_") and len(session.id) > 40
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.amount_subtotal == session.amount_total == 6500
    assert session.currency == "usd"
    assert session.payment_intent is None
    assert session.url == f"{emulator.url}/c/pay/{session.id}"
    assert session.metadata.to_dict() == {"order_id": "1042", "kind": "care_package"}  # type: ignore[union-attr]
    assert session.success_url == "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}"
    assert session.client_reference_id == "order_1042"
    assert session.submit_type == "donate"
    assert session.expires_at == session.created + 86400
    assert session.customer_details is None
    assert "line_items" not in session


def test_raw_form_body_with_brackets(emulator: EmulatorServer) -> None:
    body = ("mode=payment&line_items[0][price_data][currency]=eur"
            "&line_items[0][price_data][unit_amount]=1234"
            "&line_items[0][price_data][product_data][name]=Blanket+%26+socks"
            "&line_items[0][quantity]=3&metadata[order_id]=7&expand[]=line_items"
            "&shipping_address_collection[allowed_countries][0]=DE"
            "&shipping_address_collection[allowed_countries][1]=AT")
    resp = requests.post(f"{emulator.url}/v1/checkout/sessions", data=body, timeout=5,
                         headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["Request-Id"].startswith("req_")
    data = resp.json()
    assert data["amount_total"] == 3702
    assert data["metadata"] == {"order_id": "7"}
    assert data["shipping_address_collection"] == {"allowed_countries": ["DE", "AT"]}
    assert data["line_items"]["data"][0]["description"] == "Blanket & socks"
    assert data["line_items"]["data"][0]["quantity"] == 3


def test_retrieve_with_expanded_line_items(client: stripe.StripeClient) -> None:
    created = client.v1.checkout.sessions.create(params=payment_params())
    session = client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["line_items"]})
    items = session.line_items.data  # type: ignore[union-attr]
    assert [(i.description, i.quantity, i.amount_total) for i in items] == [
        ("Care package", 2, 5000), ("Donation", 1, 1500)]
    assert items[0].price.unit_amount == 2500 and items[0].price.type == "one_time"  # type: ignore[union-attr]
    assert items[0].object == "item" and items[0].id.startswith("li_")
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(created.id, params={"expand": ["metadata"]})
    listed = client.v1.checkout.sessions.line_items.list(created.id, params={"limit": 1})
    assert len(listed.data) == 1 and listed.has_more
    assert listed.url == f"/v1/checkout/sessions/{created.id}/line_items"


def test_list_filters_and_pagination(client: stripe.StripeClient,
                                     ctl: Callable[..., Any]) -> None:
    ids = [client.v1.checkout.sessions.create(params=payment_params()).id for _ in range(5)]
    page = client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in page.data] == ids[::-1][:2]
    assert page.has_more and page.url == "/v1/checkout/sessions"
    nxt = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert [s.id for s in nxt.data] == ids[::-1][2:4]
    back = client.v1.checkout.sessions.list(params={"limit": 2, "ending_before": nxt.data[0].id})
    assert [s.id for s in back.data] == ids[::-1][:2] and not back.has_more
    assert [s.id for s in page.auto_paging_iter()] == ids[::-1]
    paid = ctl("POST", f"/checkout/sessions/{ids[1]}/pay", {"email": "jenny@example.com"})
    by_pi = client.v1.checkout.sessions.list(params={"payment_intent": paid["payment_intent"]})
    assert [s.id for s in by_pi.data] == [ids[1]]
    complete = client.v1.checkout.sessions.list(params={"status": "complete"})
    assert [s.id for s in complete.data] == [ids[1]]
    first = client.v1.checkout.sessions.retrieve(ids[0])
    recent = client.v1.checkout.sessions.list(params={"created": {"gte": first.created}})
    assert len(recent.data) == 5
    later = client.v1.checkout.sessions.list(params={"created": {"gt": first.created + 60}})
    assert later.data == []
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.list(params={"limit": 101})
    assert err.value.param == "limit"


def test_idempotent_replay_and_mismatch(client: stripe.StripeClient,
                                        emulator: EmulatorServer) -> None:
    opts: Any = {"idempotency_key": "checkout:1042:1"}
    first = client.v1.checkout.sessions.create(params=payment_params(), options=opts)
    again = client.v1.checkout.sessions.create(params=payment_params(), options=opts)
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"  # type: ignore[union-attr]
    assert len(client.v1.checkout.sessions.list().data) == 1
    with pytest.raises(stripe.IdempotencyError) as err:
        client.v1.checkout.sessions.create(params=payment_params(client_reference_id="other"),
                                           options=opts)
    assert err.value.http_status == 400
    assert err.value.error is not None and err.value.error.type == "idempotency_error"


def test_failed_validation_stores_nothing_for_the_key(client: stripe.StripeClient) -> None:
    opts: Any = {"idempotency_key": "checkout:bad"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params={"mode": "payment"}, options=opts)
    session = client.v1.checkout.sessions.create(params=payment_params(), options=opts)
    assert session.status == "open"


def test_missing_line_items_maps_to_invalid_request(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params={"mode": "payment",
                                                   "success_url": "https://x.example/ok"})
    assert err.value.http_status == 400
    assert err.value.param == "line_items" and err.value.code == "parameter_missing"
    assert err.value.request_id and err.value.request_id.startswith("req_")
    assert err.value.headers is not None
    assert err.value.headers.get("Stripe-Should-Retry") == "false"


@pytest.mark.parametrize(("overrides", "param", "code"), [
    ({"colour": "blue"}, "colour", "parameter_unknown"),
    ({"mode": "bogus"}, "mode", None),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": "12.5",
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][unit_amount]", "parameter_invalid_integer"),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 900,
                                     "product_data": {"name": "x"}}, "quantity": 0}]},
     "line_items[0][quantity]", "parameter_invalid_integer"),
    ({"line_items": [{"price_data": {"currency": "USD", "unit_amount": 900,
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items[0][price_data][currency]", None),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 10,
                                     "product_data": {"name": "x"}}, "quantity": 1}]},
     "line_items", "amount_too_small"),
    ({"line_items": [{"price_data": {"currency": "usd", "unit_amount": 99999999,
                                     "product_data": {"name": "x"}}, "quantity": 2}]},
     "line_items", "amount_too_large"),
    ({"line_items": [{"price": "price_doesnotexist", "quantity": 1}]},
     "line_items[0][price]", "resource_missing"),
    ({"submit_type": "later"}, "submit_type", None),
])
def test_payment_session_validation(client: stripe.StripeClient, overrides: dict[str, Any],
                                    param: str, code: str | None) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=payment_params(**overrides))
    assert (err.value.param, err.value.code) == (param, code)


def test_mode_specific_validation(client: stripe.StripeClient) -> None:
    recurring = subscription_params()["line_items"]
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        client.v1.checkout.sessions.create(params=payment_params(line_items=recurring))
    one_time = payment_params()["line_items"]
    with pytest.raises(stripe.InvalidRequestError, match="recurring"):
        client.v1.checkout.sessions.create(params=subscription_params(line_items=one_time))
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.create(params=subscription_params(
            payment_intent_data={"metadata": {"a": "b"}}))
    assert err.value.param == "payment_intent_data"
    with pytest.raises(stripe.InvalidRequestError, match="payment` mode") as err:
        client.v1.checkout.sessions.create(params=subscription_params(submit_type="donate"))
    assert err.value.param == "submit_type"
    mixed = payment_params()["line_items"]
    mixed[1]["price_data"]["currency"] = "eur"
    with pytest.raises(stripe.InvalidRequestError, match="same currency"):
        client.v1.checkout.sessions.create(params=payment_params(line_items=mixed))


def test_existing_price_can_be_reused(client: stripe.StripeClient) -> None:
    first = client.v1.checkout.sessions.retrieve(
        client.v1.checkout.sessions.create(params=payment_params()).id,
        params={"expand": ["line_items"]})
    price_id = first.line_items.data[1].price.id  # type: ignore[union-attr]
    second = client.v1.checkout.sessions.create(params=payment_params(
        line_items=[{"price": price_id, "quantity": 4}]))
    assert second.amount_total == 6000


def test_bad_api_key_is_authentication_error(emulator: EmulatorServer) -> None:
    bad = stripe.StripeClient("sk_live_nope", base_addresses={"api": emulator.url},
                              max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as err:
        bad.v1.checkout.sessions.list()
    assert err.value.http_status == 401
    assert "Invalid API Key provided" in str(err.value.user_message)
    resp = requests.get(f"{emulator.url}/v1/checkout/sessions", timeout=5)
    assert resp.status_code == 401 and resp.json()["error"]["type"] == "invalid_request_error"


def test_injected_500_is_replayed_for_the_same_key(client: stripe.StripeClient,
                                                   ctl: Callable[..., Any]) -> None:
    ctl("POST", "/faults", {"method": "POST", "path_prefix": "/v1/checkout/sessions",
                            "status": 500, "count": 1})
    opts: Any = {"idempotency_key": "checkout:500"}
    for _ in range(2):
        with pytest.raises(stripe.APIError) as err:
            client.v1.checkout.sessions.create(params=payment_params(), options=opts)
        assert err.value.http_status == 500
    assert err.value.headers is not None
    assert err.value.headers.get("Idempotent-Replayed") == "true"
    assert client.v1.checkout.sessions.list().data == []
    fresh = client.v1.checkout.sessions.create(params=payment_params(),
                                               options={"idempotency_key": "checkout:500:b"})
    assert fresh.status == "open"


def test_concurrent_request_with_same_key_gets_409(client: stripe.StripeClient,
                                                   ctl: Callable[..., Any]) -> None:
    ctl("POST", "/faults", {"method": "POST", "path_prefix": "/v1/checkout/sessions",
                            "status": 0, "delay": 0.5})
    opts: Any = {"idempotency_key": "checkout:slow"}
    results: list[Any] = []

    def create() -> None:
        results.append(client.v1.checkout.sessions.create(params=payment_params(), options=opts))

    slow = threading.Thread(target=create)
    slow.start()
    threading.Event().wait(0.15)
    with pytest.raises(stripe.APIError) as err:
        client.v1.checkout.sessions.create(params=payment_params(), options=opts)
    slow.join()
    assert err.value.http_status == 409
    assert "in-progress request" in str(err.value.user_message)
    assert results[0].status == "open"


def test_twenty_concurrent_creates(client: stripe.StripeClient) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def create(n: int) -> None:
        session = client.v1.checkout.sessions.create(
            params=payment_params(client_reference_id=f"order_{n}"),
            options={"idempotency_key": f"checkout:{n % 10}"})
        with lock:
            ids.append(session.id)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 10
    assert len(list(client.v1.checkout.sessions.list(params={"limit": 100}).data)) == 10


def test_unknown_url_and_missing_object(client: stripe.StripeClient,
                                        emulator: EmulatorServer) -> None:
    resp = requests.get(f"{emulator.url}/v1/nothing_here", headers=AUTH, timeout=5)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"].startswith("Unrecognized request URL (GET: /v1/")
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def test_expire_session(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(params=payment_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError, match="status of \"expired\""):
        client.v1.checkout.sessions.expire(session.id)
    events = client.v1.events.list(params={"type": "checkout.session.expired"}).data
    assert [e.data.object.id for e in events] == [session.id]
