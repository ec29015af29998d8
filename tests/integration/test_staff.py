"""The staff area: log in, find, export, ship, and resend what failed; viewers only look."""

from __future__ import annotations

import csv
import io
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order, OrderEvent, OrderLine, SideEffect
from shop.orders.service import new_order_token
from shop.orders.state import record_event, set_status
from shop.orders.timeline import EventKind
from shop.staff import service as staff_service
from shop.staff.models import StaffUser
from shop.staff.service import OrderFilters, csv_chunks
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    csrf_token,
    post_event,
    session_id_from,
)

PASSWORD = "correct horse battery"
MANAGER = "manager@charity.example"
VIEWER = "viewer@charity.example"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INCORRECT = "Email or password is incorrect."
CSV_HEADER = [
    "number", "paid_at", "status", "email", "name", "gross", "refunded", "net", "goods",
    "gift", "fee_covered", "currency", "dedication", "anonymous", "plan",
    "stripe_payment_intent_id", "created_at", "kind", "packages", "stripe_session_id",
    "receipt_sent_at", "fulfilment_status", "fulfilment_reference",
]
ROW = re.compile(r'data-testid="staff-order-row" data-number="([^"]+)"')
TIMELINE = re.compile(r'data-testid="staff-timeline-event" data-kind="([^"]+)"')

# Each status an order can be made in, and the moves that get it there from pending.
PATHS = {
    "pending": [],
    "paid": ["paid"],
    "fulfilled": ["paid", "fulfilled"],
    "needs_review": ["needs_review"],
    "expired": ["expired"],
    "refunded": ["paid", "refunded"],
}
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# --- helpers --------------------------------------------------------------------------


def create_staff(runner: FlaskCliRunner, email: str, role: str,
                 password: str = PASSWORD) -> Any:
    return runner.invoke(args=["create-staff", email, "--role", role],
                         env={"STAFF_PASSWORD": password})


def log_in(client: FlaskClient, email: str, password: str = PASSWORD,
           next_path: str | None = None) -> Any:
    data = {"email": email, "password": password,
            "csrf_token": csrf_token(client, "/staff/login")}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/staff/login", data=data)


def staff_client(app: Flask, runner: FlaskCliRunner, email: str, role: str) -> FlaskClient:
    assert create_staff(runner, email, role).exit_code == 0
    client = app.test_client()
    assert log_in(client, email).status_code == 303
    return client


@pytest.fixture
def manager(app: Flask, runner: FlaskCliRunner) -> FlaskClient:
    return staff_client(app, runner, MANAGER, "manager")


@pytest.fixture
def viewer(app: Flask, runner: FlaskCliRunner) -> FlaskClient:
    return staff_client(app, runner, VIEWER, "viewer")


def make_order(
    app: Flask,
    *,
    status: str = "paid",
    email: str = "donor@example.org",
    name: str = "",
    kind: str = "package",
    created_at: datetime | None = None,
    note: str = "",
    receipt: str | None = "auto",
    packing: str | None = "auto",
    last_error: str | None = None,
    review_reason: str | None = None,
) -> str:
    """An order in `status`, made the way the shop makes them; side effects without tasks."""
    with app.app_context():
        if kind == "donation":
            lines = [OrderLine(kind="donation", name="Gift", unit_price_cents=2500,
                               quantity=1, packages=0, note="")]
        else:
            lines = [OrderLine(kind="package", bundle_slug="unit-ten-pack",
                               name="Unit ten-pack", unit_price_cents=59000, quantity=1,
                               packages=10, note=note)]
        order = Order(
            token=new_order_token(), status="pending", kind=kind, email=email, name=name,
            currency="usd", total_cents=sum(line.line_total_cents for line in lines),
            packages=sum(line.total_packages for line in lines), lines=lines,
            created_at=created_at or datetime.now(UTC), review_reason=review_reason,
        )
        db.session.add(order)
        db.session.flush()
        order.number = f"CP-{order.id:06d}"
        order.stripe_session_id = f"cs_test_{order.id:06d}"
        record_event(order, EventKind.CREATED, "Order placed", actor="donor")
        for step in PATHS[status]:
            if step == "paid":
                order.stripe_payment_intent_id = f"pi_test_{order.id:06d}"
                order.amount_received_cents = order.total_cents
                order.paid_at = order.created_at
            set_status(order, step, reason=f"test: {step}", actor="test")
        paid = "paid" in PATHS[status]
        effects = {"receipt": receipt, "packing_order": packing}
        for effect_kind, effect_status in effects.items():
            if effect_status == "auto":
                wanted = paid and (effect_kind == "receipt" or kind != "donation")
                effect_status = "done" if wanted else None
            if effect_status is None:
                continue
            order.side_effects.append(SideEffect(
                kind=effect_kind, status=effect_status,
                attempts=1 if effect_status != "pending" else 0,
                last_error=last_error if effect_status == "failed" else None,
                done_at=order.created_at if effect_status == "done" else None,
                reference="PK-1" if effect_status == "done" else None,
            ))
        db.session.commit()
        return order.number


def order_state(app: Flask, number: str) -> tuple[str, list[str]]:
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.number == number)).one()
        return order.status, [event.kind for event in order.events]


def effect_row(app: Flask, number: str, kind: str) -> SideEffect:
    with app.app_context():
        effect: SideEffect = db.session.scalars(
            db.select(SideEffect).join(Order).where(Order.number == number,
                                                   SideEffect.kind == kind)
        ).one()
        db.session.expunge(effect)
        return effect


def listed(client: FlaskClient, query: str = "") -> list[str]:
    response = client.get(f"/staff/orders{query}")
    assert response.status_code == 200
    return ROW.findall(response.get_data(as_text=True))


def page_of(client: FlaskClient, number: str) -> str:
    response = client.get(f"/staff/orders/{number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_action(client: FlaskClient, number: str, action: str, **data: str) -> Any:
    token = csrf_token(client, f"/staff/orders/{number}")
    return client.post(f"/staff/orders/{number}/{action}", data={"csrf_token": token} | data)


def export(client: FlaskClient, query: str = "") -> tuple[Any, list[list[str]]]:
    response = client.get(f"/staff/orders.csv{query}", buffered=False)
    streamed = response.is_streamed
    text = response.get_data(as_text=True)
    response.streamed = streamed  # type: ignore[attr-defined]
    return response, list(csv.reader(io.StringIO(text)))


# --- accounts and login ---------------------------------------------------------------


def test_create_staff_creates_updates_and_refuses_bad_input(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    created = create_staff(runner, "Ops@Charity.Example", "viewer")
    assert created.exit_code == 0 and "Created staff user ops@charity.example" in created.output

    updated = create_staff(runner, "ops@charity.example", "manager", "a new long password")
    assert updated.exit_code == 0
    assert "Updated staff user ops@charity.example" in updated.output
    assert "manager" in updated.output

    bad_role = create_staff(runner, "x@charity.example", "owner")
    assert bad_role.exit_code != 0 and "Unknown role 'owner'" in bad_role.output
    short = create_staff(runner, "x@charity.example", "viewer", "eleven char")
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    empty = create_staff(runner, "x@charity.example", "viewer", "")
    assert empty.exit_code != 0 and "password is empty" in empty.output
    with app.app_context():
        users = {u.email: u.role for u in db.session.scalars(db.select(StaffUser))}
        stored = db.session.scalars(db.select(StaffUser.password_hash)).one()
    assert users == {"ops@charity.example": "manager"}
    assert stored.startswith("scrypt:") and "long password" not in stored

    # The old password no longer works; the new one does, whatever the email's case.
    assert log_in(client, "ops@charity.example", PASSWORD).status_code == 401
    assert log_in(client, "OPS@charity.example", "a new long password").status_code == 303


def test_demo_staff_prints_a_login_that_works_and_never_makes_a_second_admin(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    first = runner.invoke(args=["demo-staff"])
    second = runner.invoke(args=["demo-staff"])
    logins = [re.fullmatch(r"Staff login: (\S+) / (\S+)\n", r.output) for r in (first, second)]
    assert all(logins), (first.output, second.output)
    (email, old), (same_email, new) = (m.groups() for m in logins if m)
    assert email == same_email and old != new and len(new) >= 16
    with app.app_context():
        assert db.session.scalars(db.select(StaffUser.role)).all() == ["admin"]
    assert log_in(client, email, old).status_code == 401
    assert log_in(client, email, new).status_code == 303
    app.config["APP_ENV"] = "production"
    refused = runner.invoke(args=["demo-staff"])
    assert refused.exit_code != 0 and "create-staff" in refused.output


def test_login_goes_to_the_page_asked_for_and_logout_ends_the_session(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner
) -> None:
    create_staff(runner, MANAGER, "manager")
    number = make_order(app)
    asked = client.get(f"/staff/orders/{number}", headers=HTML)
    assert asked.status_code == 302
    assert asked.location.startswith("/staff/login?next=")

    login_page = client.get(asked.location).get_data(as_text=True)
    assert 'data-testid="staff-login-form"' in login_page
    response = log_in(client, MANAGER, next_path=f"/staff/orders/{number}")
    assert response.status_code in (302, 303)
    assert response.location == f"/staff/orders/{number}"
    assert MANAGER in page_of(client, number)

    token = csrf_token(client, "/staff/orders")
    out = client.post("/staff/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.location == "/staff/login"
    assert client.get("/staff/orders", headers=HTML).status_code == 302


def test_login_never_redirects_to_another_site(app: Flask, runner: FlaskCliRunner) -> None:
    create_staff(runner, MANAGER, "manager")
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "orders"):
        client = app.test_client()
        response = log_in(client, MANAGER, next_path=target)
        assert response.status_code == 303 and response.location == "/staff/dashboard", target
        assert client.get("/staff/").location == "/staff/dashboard"
        assert client.get("/staff/login?next=//evil.example").location == "/staff/dashboard"


def test_a_wrong_password_reads_the_same_for_known_and_unknown_emails(
    client: FlaskClient, runner: FlaskCliRunner
) -> None:
    create_staff(runner, MANAGER, "manager")

    def attempt(email: str) -> tuple[float, Any]:
        start = time.perf_counter()
        response = log_in(client, email, "not the password")
        return time.perf_counter() - start, response

    known = [attempt(MANAGER) for _ in range(3)]
    unknown = [attempt("nobody@charity.example") for _ in range(3)]
    for _, response in known + unknown:
        html = response.get_data(as_text=True)
        assert response.status_code == 401
        assert INCORRECT in html and 'data-testid="staff-login-form"' in html
    # An unknown email is checked against a dummy hash: no quick "no such user" answer.
    known_time = statistics.median(t for t, _ in known)
    unknown_time = statistics.median(t for t, _ in unknown)
    assert unknown_time > known_time * 0.4, (known_time, unknown_time)
    assert client.get("/staff/orders", headers=HTML).status_code == 302


@pytest.mark.shop_config({"RATELIMIT_ENABLED": True, "STAFF_LOGIN_MAX_FAILURES": 100})
def test_login_is_rate_limited_per_address(client: FlaskClient, runner: FlaskCliRunner) -> None:
    create_staff(runner, MANAGER, "manager")
    token = csrf_token(client, "/staff/login")
    data = {"email": MANAGER, "password": "guess", "csrf_token": token}
    answers = [client.post("/staff/login", data=data).status_code for _ in range(10)]
    assert answers == [401] * 10
    blocked = client.post("/staff/login", data=data | {"password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many requests" in blocked.get_data(as_text=True)
    # Still blocked for the right password: the limit is per address, not per failure.
    assert client.get("/staff/orders", headers=HTML).status_code == 302


def test_without_a_session_pages_redirect_and_scripts_get_401(
    app: Flask, client: FlaskClient
) -> None:
    number = make_order(app)
    for path in ("/staff/", "/staff/orders", f"/staff/orders/{number}", "/staff/orders.csv"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 302, path
        assert response.location.startswith("/staff/login"), path
    for accept in ("application/json", "text/csv"):
        for path in ("/staff/orders", "/staff/orders.csv", f"/staff/orders/{number}"):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == 401, (path, accept)
            assert response.get_json()["error"]["code"] == "login_required"
    token = csrf_token(client, "/staff/login")
    response = client.post(f"/staff/orders/{number}/ship", data={"csrf_token": token},
                           headers=HTML)
    assert response.status_code == 302 and response.location == "/staff/login"
    assert order_state(app, number)[0] == "paid"


# --- the list -------------------------------------------------------------------------


def test_the_list_is_newest_first_and_filters_and_searches(
    app: Flask, manager: FlaskClient
) -> None:
    oldest = make_order(app, status="paid", email="alma@example.org", created_at=T0)
    gift = make_order(app, status="paid", kind="donation", email="Bert@Example.org",
                      created_at=T0 + timedelta(hours=1))
    pending = make_order(app, status="pending", email="cleo@example.org",
                         created_at=T0 + timedelta(hours=2))
    newest = make_order(app, status="fulfilled", email="dora@example.org",
                        created_at=T0 + timedelta(hours=3))

    # A checkout abandoned more than a day ago is behind a filter.
    assert listed(manager) == [newest, gift, oldest]
    assert listed(manager, "?abandoned=1") == [newest, pending, gift, oldest]
    assert listed(manager, "?status=paid") == [gift, oldest]
    assert listed(manager, "?kind=donation") == [gift]
    assert listed(manager, "?status=paid&kind=package") == [oldest]
    assert listed(manager, f"?q={oldest}") == [oldest]
    assert listed(manager, f"?q={oldest.lower()}") == [oldest]
    assert listed(manager, "?q=bert@example") == [gift]
    assert listed(manager, "?q=EXAMPLE.ORG&status=pending") == [pending]
    assert listed(manager, "?q=%25") == []  # a LIKE wildcard is searched for literally
    page = manager.get("/staff/orders?status=paid").get_data(as_text=True)
    assert 'data-testid="staff-filter-form"' in page
    assert '<option value="paid" selected>' in page

    unknown = manager.get("/staff/orders?status=lost")
    assert unknown.status_code == 400
    assert "There is no order status" in unknown.get_data(as_text=True)
    bad_kind = manager.get("/staff/orders?kind=<b>x</b>")
    assert bad_kind.status_code == 400 and "<b>x</b>" not in bad_kind.get_data(as_text=True)
    for page_arg in ("abc", "-3", "0", "99999999999999999999999"):
        assert listed(manager, f"?page={page_arg}&abandoned=1") == [newest, pending, gift,
                                                                     oldest]


def page_link(page: str, testid: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*data-testid="{testid}"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_list_pages_by_fifty_from_a_cursor(app: Flask, manager: FlaskClient) -> None:
    numbers = [make_order(app, status="paid", created_at=T0 + timedelta(minutes=i),
                          email=f"donor{i}@example.org") for i in range(53)]
    newest_first = list(reversed(numbers))
    first = manager.get("/staff/orders").get_data(as_text=True)
    assert ROW.findall(first) == newest_first[:50]
    assert re.search(r'data-testid="staff-order-count" data-exact="yes">53 orders\.', first)
    assert page_link(first, "staff-page-newer") is None
    older = page_link(first, "staff-page-older")
    assert older is not None and "page=" not in older

    last = manager.get(older).get_data(as_text=True)
    assert ROW.findall(last) == newest_first[50:]
    assert page_link(last, "staff-page-older") is None
    newer = page_link(last, "staff-page-newer")
    assert newer is not None
    assert listed(manager, newer.removeprefix("/staff/orders")) == newest_first[:50]
    assert page_link(last, "staff-page-newest") == "/staff/orders"

    # An order placed while staff page through does not shift the older pages.
    make_order(app, status="paid", created_at=T0 + timedelta(hours=5))
    assert listed(manager, older.removeprefix("/staff/orders")) == newest_first[50:]

    matches = listed(manager, "?q=donor1")
    assert len(matches) == 11  # donor1, donor10..donor19: one page, no next page
    assert 'data-testid="staff-pagination"' not in manager.get(
        "/staff/orders?q=donor1").get_data(as_text=True)
    filtered = manager.get("/staff/orders?status=paid").get_data(as_text=True)
    assert (page_link(filtered, "staff-page-older") or "").endswith("&status=paid")
    for broken in ("?after=abc", "?before=-3", "?after=99999999999999999999999"):
        response = manager.get(f"/staff/orders{broken}")
        assert response.status_code == 400, broken
        assert "That page link is broken" in response.get_data(as_text=True)
    # A cursor naming no order starts from the newest.
    assert listed(manager, "?after=987654")[:1] == [ROW.findall(
        manager.get("/staff/orders").get_data(as_text=True))[0]]


def test_past_ten_thousand_the_list_says_about_how_many(
    app: Flask, manager: FlaskClient, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    numbers = [make_order(app, status="paid", created_at=T0 + timedelta(minutes=i),
                          email=f"count{i}@example.org") for i in range(4)]
    page = manager.get("/staff/orders?q=count").get_data(as_text=True)
    assert re.search(r'data-exact="yes">4 orders match\.', page)
    # Counting every row is what made the list slow: past the limit PostgreSQL estimates.
    monkeypatch.setattr(staff_service, "COUNT_EXACT_UP_TO", 2)
    newest = int(numbers[-1].removeprefix("CP-"))
    page = manager.get(f"/staff/orders?q=count&after={newest}").get_data(as_text=True)
    assert ROW.findall(page) == list(reversed(numbers[:3]))
    if backend == "postgresql":
        about = re.search(r'data-exact="no">About ([\d,]+) orders match\.', page)
        assert about is not None and int(about.group(1).replace(",", "")) >= 3
    else:  # the embedded database is small: it counts
        assert re.search(r'data-exact="yes">4 orders match\.', page)


# --- the order page -------------------------------------------------------------------


def test_the_order_page_shows_lines_notes_payment_and_timeline(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, stripe_stand_in: StripeStandIn
) -> None:
    add_to_cart(client, "unit-ten-pack", 1, "Stay warm <script>alert(1)</script> & safe")
    session_id = session_id_from(checkout(client, email="donor@example.org").location)
    stripe_stand_in.pay(session_id)
    assert post_event(client, stripe_stand_in.event("checkout.session.completed")).status_code \
        == 200
    with app.app_context():
        order = db.session.scalars(db.select(Order)).one()
        number, intent = order.number, order.stripe_payment_intent_id
    assert number and intent

    staff = staff_client(app, runner, VIEWER, "viewer")
    html = page_of(staff, number)
    assert "Unit ten-pack" in html and "$590.00" in html
    assert "Stay warm &lt;script&gt;alert(1)&lt;/script&gt; &amp; safe" in html
    assert "<script>alert(1)" not in html
    assert session_id in html and intent in html
    assert 'data-testid="staff-order-status" data-status="paid"' in html
    kinds = TIMELINE.findall(html)
    assert kinds[0] == "created" and "status" in kinds and "Order placed" in html
    assert "Payment of $590.00 confirmed" in html
    assert 'data-testid="staff-receipt-status"' in html
    assert 'data-testid="staff-packing-status"' in html

    missing = staff.get("/staff/orders/CP-999999")
    assert missing.status_code == 404 and "could not find" in missing.get_data(as_text=True)
    assert staff.get("/staff/orders/" + "X" * 200).status_code == 404


def test_an_order_under_review_and_failed_side_effects_stand_out(
    app: Flask, viewer: FlaskClient
) -> None:
    number = make_order(app, status="needs_review",
                        review_reason="Stripe reported $1.00, the order is for $590.00")
    html = page_of(viewer, number)
    assert 'data-testid="staff-review-reason"' in html
    assert "Stripe reported $1.00, the order is for $590.00" in html

    failing = make_order(app, status="paid", packing="failed",
                         last_error="partner answered 422: 'unknown bundle'")
    html = page_of(viewer, failing)
    assert 'data-testid="staff-packing-status" data-status="failed"' in html
    assert "Packing order failed after 1 attempt" in html
    assert "partner answered 422: &#39;unknown bundle&#39;" in html
    assert "Packing order failed" in viewer.get("/staff/orders").get_data(as_text=True)


# --- actions --------------------------------------------------------------------------


def test_a_manager_ships_a_paid_order_with_a_tracking_note(
    app: Flask, manager: FlaskClient
) -> None:
    number = make_order(app, status="paid")
    assert 'data-testid="staff-ship-button"' in page_of(manager, number)
    response = post_action(manager, number, "ship", tracking_note="DHL 00340 <b>box 2</b>")
    assert response.status_code == 303 and response.location == f"/staff/orders/{number}"

    html = page_of(manager, number)
    assert f"Order {number} is marked shipped." in html
    assert 'data-testid="staff-order-status" data-status="fulfilled"' in html
    assert "Tracking: DHL 00340 &lt;b&gt;box 2&lt;/b&gt;" in html
    assert 'data-testid="staff-ship-button"' not in html
    assert listed(manager, "?status=fulfilled") == [number]
    with app.app_context():
        event = db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.to_status == "fulfilled")
        ).one()
        assert event.actor == MANAGER and event.from_status == "paid"
        assert event.data == {"tracking_note": "DHL 00340 <b>box 2</b>"}

    again = post_action(manager, number, "ship")
    assert again.status_code == 303
    assert "already marked shipped" in page_of(manager, number)


def test_a_tracking_note_that_is_too_long_changes_nothing(
    app: Flask, manager: FlaskClient
) -> None:
    number = make_order(app, status="paid")
    response = post_action(manager, number, "ship", tracking_note="x" * 501)
    assert response.status_code == 400
    assert "under 500 characters" in response.get_data(as_text=True)
    assert order_state(app, number)[0] == "paid"


def test_a_viewer_sees_no_actions_and_is_refused_them(
    app: Flask, viewer: FlaskClient
) -> None:
    number = make_order(app, status="paid", packing="failed", last_error="partner down")
    html = page_of(viewer, number)
    for button in ("staff-ship-button", "staff-resend-receipt-button",
                   "staff-retry-packing-button"):
        assert f'data-testid="{button}"' not in html
    before = order_state(app, number)
    for action in ("ship", "resend-receipt", "retry-packing-order"):
        response = post_action(viewer, number, action, tracking_note="sneaky")
        assert response.status_code == 403, action
        assert "not allowed" in response.get_data(as_text=True)
    assert order_state(app, number) == before
    assert effect_row(app, number, "packing_order").status == "failed"


def test_shipping_an_unpaid_order_is_refused_with_a_message(
    app: Flask, manager: FlaskClient
) -> None:
    pending = make_order(app, status="pending")
    html = page_of(manager, pending)
    assert 'data-testid="staff-ship-button"' not in html
    assert 'data-testid="staff-resend-receipt-button"' not in html
    response = post_action(manager, pending, "ship", tracking_note="DHL 1")
    assert response.status_code == 303 and response.location == f"/staff/orders/{pending}"
    html = page_of(manager, pending)
    assert "cannot be marked shipped" in html and "waiting for payment" in html
    assert order_state(app, pending) == ("pending", ["created"])

    review = make_order(app, status="needs_review", review_reason="amount differs")
    post_action(manager, review, "ship")
    assert "resolve the review before shipping" in page_of(manager, review)
    assert order_state(app, review)[0] == "needs_review"

    refused = post_action(manager, pending, "resend-receipt")
    assert refused.status_code == 303
    assert "has no receipt to send" in page_of(manager, pending)
    token = csrf_token(manager, "/staff/orders")
    unknown = manager.post("/staff/orders/CP-999999/ship", data={"csrf_token": token})
    assert unknown.status_code == 404


def test_resending_a_failed_receipt_queues_it_again(app: Flask, manager: FlaskClient) -> None:
    number = make_order(app, status="paid", receipt="failed", last_error="SMTP 554 refused")
    html = page_of(manager, number)
    assert 'data-testid="staff-receipt-status" data-status="failed"' in html
    assert "SMTP 554 refused" in html

    response = post_action(manager, number, "resend-receipt")
    assert response.status_code == 303
    html = page_of(manager, number)
    assert "is being sent again to donor@example.org" in html
    assert "receipt_requested" in TIMELINE.findall(html)
    assert "Receipt: sent again at staff request" in html
    # The task runs in-process after the commit: sent already, or still pending.
    effect = effect_row(app, number, "receipt")
    assert effect.status in ("pending", "done") and effect.last_error is None
    assert 'data-testid="staff-receipt-status" data-status="failed"' not in html
    assert "SMTP 554 refused" not in html
    with app.app_context():
        requested = db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "receipt_requested")
        ).one()
        assert requested.actor == MANAGER


def test_retrying_a_failed_packing_order_and_refusing_a_done_one(
    app: Flask, manager: FlaskClient
) -> None:
    number = make_order(app, status="paid", packing="failed",
                        last_error="partner answered 500: 'down'")
    assert 'data-testid="staff-retry-packing-button"' in page_of(manager, number)
    response = post_action(manager, number, "retry-packing-order")
    assert response.status_code == 303
    html = page_of(manager, number)
    assert "being sent to the partner again" in html
    assert "packing_order_requested" in TIMELINE.findall(html)
    assert "partner answered 500" not in html  # the old failure is cleared
    with app.app_context():
        requested = db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.kind == "packing_order_requested")
        ).one()
        assert requested.actor == MANAGER

    accepted = make_order(app, status="paid")
    assert 'data-testid="staff-retry-packing-button"' not in page_of(manager, accepted)
    before = order_state(app, accepted)
    post_action(manager, accepted, "retry-packing-order")
    assert "already accepted by the partner" in page_of(manager, accepted)
    assert order_state(app, accepted) == before
    assert effect_row(app, accepted, "packing_order").status == "done"


# --- the CSV export -------------------------------------------------------------------


def test_the_csv_export_streams_the_filtered_list_safely(
    app: Flask, manager: FlaskClient
) -> None:
    paid = make_order(app, status="paid", name="=HYPERLINK(\"http://evil\")",
                      email="-x@example.org", created_at=T0)
    gift = make_order(app, status="paid", kind="donation", name="@SUM(A1)",
                      email="gift@example.org", created_at=T0 + timedelta(hours=1))
    pending = make_order(app, status="pending", name="\tTabby +1",
                         created_at=T0 + timedelta(hours=2))

    response, rows = export(manager, "?abandoned=1")
    assert response.status_code == 200 and response.streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(
        "attachment; filename=orders_start_to_")
    assert rows[0] == CSV_HEADER
    by_number = {row[0]: dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    assert [row[0] for row in rows[1:]] == [pending, gift, paid]

    first = by_number[paid]
    assert first["name"] == "'=HYPERLINK(\"http://evil\")"
    assert first["email"] == "'-x@example.org"
    assert datetime.fromisoformat(first["created_at"]) == T0
    assert datetime.fromisoformat(first["paid_at"]) == T0
    assert first["status"] == "paid" and first["kind"] == "package"
    assert first["packages"] == "10" and first["gross"] == "590.00"
    assert (first["net"], first["goods"], first["gift"]) == ("590.00", "590.00", "0.00")
    assert first["currency"] == "usd"
    assert first["stripe_session_id"].startswith("cs_test_")
    assert first["stripe_payment_intent_id"].startswith("pi_test_")
    assert datetime.fromisoformat(first["receipt_sent_at"]) == T0
    assert first["fulfilment_status"] == "done" and first["fulfilment_reference"] == "PK-1"
    assert by_number[gift]["name"] == "'@SUM(A1)"
    assert by_number[gift]["fulfilment_status"] == ""
    assert by_number[pending]["name"] == "'\tTabby +1"
    assert by_number[pending]["receipt_sent_at"] == ""
    assert by_number[pending]["paid_at"] == ""

    assert [row[0] for row in export(manager, "?status=paid")[1][1:]] == [gift, paid]
    assert [row[0] for row in export(manager, "?kind=donation")[1][1:]] == [gift]
    assert [row[0] for row in export(manager, "?q=gift@")[1][1:]] == [gift]
    assert export(manager, "?status=pending&q=nobody")[1] == [CSV_HEADER]
    bad = manager.get("/staff/orders.csv?status=lost", headers={"Accept": "text/csv"})
    assert bad.status_code == 400 and "no order status" in bad.get_json()["error"]["message"]


def test_the_csv_export_reads_in_batches_and_misses_no_row(app: Flask) -> None:
    numbers = [make_order(app, status="paid", created_at=T0 + timedelta(minutes=i))
               for i in range(7)]
    with app.test_request_context():
        chunks = list(csv_chunks(OrderFilters(), batch_size=3))
    assert len(chunks) >= 3
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == CSV_HEADER
    assert [row[0] for row in rows[1:]] == list(reversed(numbers))


def test_the_dashboard_shows_todays_money_and_what_waits_for_a_person(
    app: Flask, client: FlaskClient, viewer: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    other = app.test_client()
    _, wrong = buy_and_pay(other, stripe_stand_in, "single-package")
    wrong["data"]["object"]["amount_total"] = 1
    post_event(other, wrong)
    page = viewer.get("/staff/dashboard").get_data(as_text=True)
    assert re.search(r'data-testid="dashboard-today">1 order,\s+\$590\.00', page)
    assert 'data-testid="attention-review" data-count="1"' in page
    assert 'href="/staff/orders?status=needs_review"' in page
    assert 'data-testid="attention-disputes" data-count="0"' in page
    anonymous = client.get("/staff/dashboard", headers={"Accept": "text/html"})
    assert anonymous.status_code == 302  # donors see nothing
