"""Any text in any form field, query parameter or path of donor and staff pages: never a 5xx.

Hypothesis posts arbitrary Unicode, NUL and other control characters, line breaks and
bidi overrides, invalid UTF-8, 100 KB strings and repeated fields, on PostgreSQL (which
refuses NUL in text, where SQLite does not). One app per test, many examples per app:
the database keeps what earlier examples made, as a real shop would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shop.cart.forms import AddToCartForm, UpdateLineForm
from shop.checkout.forms import CheckoutForm
from shop.donations.forms import DonationForm
from shop.extensions import db
from shop.orders.models import Order, OrderLine
from shop.staff.forms import LoginForm, RefundForm, ShipForm
from tests.integration.test_staff import MANAGER, staff_client
from tests.support import StripeStandIn, add_to_cart, buy_and_pay, csrf_token

pytestmark = pytest.mark.postgres

EXAMPLES = 40
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)

# What breaks naive code: NUL, controls, line breaks of every kind, bidi overrides and
# isolates, BOM, a lone surrogate (sent as invalid UTF-8), combining marks, other scripts.
NASTY = ["\x00", "\r\n", "\n", "\r", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
         "\u202e", "\u2066", "\ufeff", "\u200b", "\ud800", "\u0301", "%00", "'", '"', "<",
         "\u0661\u0662", "\U0001d7d9", "\u2460", "\uff9f", "\ufffd", "\t", " ", "+-5", "1e9",
         "NaN", "-0", "0x1F"]
LONG = ["x" * 100_000, "\x00" * 30_000, "é" * 50_000, "9" * 5000,
        "\u0645\u062d\u0645\u062f" * 20_000]


def _inject(valid: str, nasty: str, at: int) -> str:
    at = at % (len(valid) + 1)
    return valid[:at] + nasty + valid[at:]


# What breaks most often, drawn more often.
WORST = ["\x00", "\r\n", "\n", "\u2028", "\u202e", "\ud800", "\x1b"]


def values(valid: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    """Arbitrary text, nasty pieces, long strings, and valid values with nasty insides."""
    nasty = st.one_of(st.sampled_from(WORST), st.sampled_from(NASTY))
    options: list[st.SearchStrategy[str]] = [
        st.text(st.characters(exclude_categories=()), max_size=30),
        nasty,
        st.lists(nasty, min_size=1, max_size=6).map("".join),
        st.sampled_from(LONG),
    ]
    if valid:
        injected = st.builds(_inject, st.sampled_from(valid), nasty, st.integers(0, 60))
        # Valid values with something nasty inside reach the code behind the validators.
        options = [injected, st.sampled_from(valid), injected, *options]
    return st.one_of(options)


def encode(pairs: list[tuple[str, str | bytes]]) -> str:
    """A form body or query string; a lone surrogate goes out as the invalid bytes it is."""
    def part(value: str | bytes) -> str:
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return quote_from_bytes(raw, safe="")
    return "&".join(f"{part(name)}={part(value)}" for name, value in pairs)


@st.composite
def form_body(draw: st.DrawFn, fields: dict[str, tuple[str, ...]]) -> list[tuple[str, Any]]:
    """Each field left out, sent once, or sent twice; now and then an unknown field or bytes."""
    pairs: list[tuple[str, Any]] = []
    for name, valid in fields.items():
        times = draw(st.sampled_from((0, 1, 1, 1, 2)))
        pairs += [(name, draw(values(valid))) for _ in range(times)]
    if draw(st.booleans()):
        pairs.append((draw(values()), draw(values())))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from(sorted(fields) or ["x"])), draw(st.binary())))
    return pairs


def fields_of(app: Flask, form_class: type, **valid: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Every field the form has (its CSRF token too), with valid values where given."""
    with app.test_request_context():
        names = list(form_class(formdata=None)._fields)
    return {name: valid.get(name, ()) for name in names if name != "csrf_token"}


@dataclass
class Shop:
    app: Flask
    donor: FlaskClient
    staff: FlaskClient
    token: str
    number: str
    line_id: int
    note_line_id: int

    def orders(self) -> int:
        with self.app.app_context():
            return db.session.scalar(db.select(db.func.count(Order.id))) or 0


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shop(app: Flask, client: FlaskClient, runner: FlaskCliRunner,
         stripe_stand_in: StripeStandIn) -> Iterator[Shop]:
    app.config["NOTE_REVIEW_TERMS"] = "frost"
    token, _ = buy_and_pay(client, stripe_stand_in, variant="single-package", note="Hi frost",
                           gift="36", name="Dana")
    assert add_to_cart(client, "single-package", 1, "Stay warm").status_code == 302
    with app.app_context():
        order = db.session.scalar(db.select(Order).where(Order.token == token))
        assert order is not None and order.number is not None
        number = order.number
        note_line = db.session.scalar(db.select(OrderLine.id).where(
            OrderLine.order_id == order.id, OrderLine.note_review == "pending"))
        from shop.cart.models import CartLine
        line_id = db.session.scalar(db.select(db.func.max(CartLine.id)))
    yield Shop(app, client, staff_client(app, runner, MANAGER, "manager"), token, number,
               int(line_id or 0), int(note_line or 0))


def _post(client: FlaskClient, path: str, pairs: list[tuple[str, Any]], token: str) -> Any:
    body = encode([("csrf_token", token), *pairs])
    return client.post(path, data=body, content_type="application/x-www-form-urlencoded")


def _assert_answered(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n" + \
        response.get_data(as_text=True)[:2000]


# --- donor forms ----------------------------------------------------------------------


def test_any_donation_form_is_answered_and_a_refused_one_writes_nothing(shop: Shop) -> None:
    fields = fields_of(shop.app, DonationForm, amount=("36", "other", "18"),
                       other_amount=("75", "5.50"), frequency=("once", "monthly"),
                       dedication_type=("honor", "memory", ""),
                       dedication_name=("Dana Rivera",), email=("giver@example.org",),
                       dedication_email=("family@example.org",), name=("Gil",),
                       cover_fee=("y",), anonymous=("y",))
    token = csrf_token(shop.donor, "/donate")

    @SETTINGS
    @given(form_body(fields))
    def check(pairs: list[tuple[str, Any]]) -> None:
        before = shop.orders()
        response = _post(shop.donor, "/donate", pairs, token)
        _assert_answered(response, f"POST /donate {pairs!r:.300}")
        if response.status_code >= 400:
            assert shop.orders() == before

    check()


def test_any_cart_form_is_answered(shop: Shop) -> None:
    add = fields_of(shop.app, AddToCartForm, variant=("single-package", "unit-ten-pack"),
                    quantity=("1", "2"), note=("Stay warm",), join_unit=("y",))
    update = fields_of(shop.app, UpdateLineForm, quantity=("1", "3"), note=("Hello",))
    token = csrf_token(shop.donor, "/")

    @SETTINGS
    @given(st.sampled_from(["add", "update", "remove"]), form_body(add), form_body(update))
    def check(action: str, add_pairs: list[tuple[str, Any]],
              update_pairs: list[tuple[str, Any]]) -> None:
        if action == "add":
            path, pairs = "/cart/add", add_pairs
        elif action == "update":
            path, pairs = f"/cart/lines/{shop.line_id}", update_pairs
        else:
            path, pairs = f"/cart/lines/{shop.line_id}/remove", update_pairs
        _assert_answered(_post(shop.donor, path, pairs, token), f"POST {path} {pairs!r:.300}")

    check()


def test_any_checkout_form_is_answered_and_a_refused_one_writes_nothing(shop: Shop) -> None:
    fields = fields_of(shop.app, CheckoutForm, email=("donor@example.org",),
                       name=("Dana", "Dana Rivera"))
    token = csrf_token(shop.donor, "/cart")

    @SETTINGS
    @given(form_body(fields))
    def check(pairs: list[tuple[str, Any]]) -> None:
        before = shop.orders()
        response = _post(shop.donor, "/checkout", pairs, token)
        _assert_answered(response, f"POST /checkout {pairs!r:.300}")
        if response.status_code >= 400 and response.status_code != 503:
            assert shop.orders() == before

    check()


# --- staff forms ----------------------------------------------------------------------


def test_any_staff_form_is_answered(shop: Shop) -> None:
    login = fields_of(shop.app, LoginForm, email=(MANAGER,), next=("/staff/orders",))
    ship = fields_of(shop.app, ShipForm, tracking_note=("Sent with DHL",))
    refund = fields_of(shop.app, RefundForm, amount=("1", "1.00", ""),
                       reason=("requested_by_customer", "duplicate"))
    note: dict[str, tuple[str, ...]] = {"next": ("/staff/notes",)}
    stranger = shop.app.test_client()
    login_token = csrf_token(stranger, "/staff/login")
    token = csrf_token(shop.staff, f"/staff/orders/{shop.number}")
    targets: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
        "login": ("/staff/login", login),
        "ship": (f"/staff/orders/{shop.number}/ship", ship),
        "refund": (f"/staff/orders/{shop.number}/refund", refund),
        "approve": (f"/staff/notes/{shop.note_line_id}/approve", note),
        "reject": (f"/staff/notes/{shop.note_line_id}/reject", note),
        "resend": (f"/staff/orders/{shop.number}/resend-receipt", {}),
    }

    @SETTINGS
    @given(st.sampled_from(sorted(targets)).flatmap(
        lambda name: st.tuples(st.just(name), form_body(targets[name][1]))))
    def check(drawn: tuple[str, list[tuple[str, Any]]]) -> None:
        name, pairs = drawn
        path = targets[name][0]
        if name == "login":
            response = _post(stranger, path, pairs, login_token)
        else:
            response = _post(shop.staff, path, pairs, token)
        _assert_answered(response, f"POST {path} {pairs!r:.300}")

    check()


# --- every page, with any query parameters and any path parameters ---------------------

QUERY_NAMES = ("session_id", "status", "kind", "q", "page", "next", "after", "before", "sort",
               "per_page")


def _pages(app: Flask) -> list[tuple[str, tuple[str, ...]]]:
    """Every GET route of the donor and staff pages, with its path parameters."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        pages.append((rule.rule, tuple(sorted(rule.arguments))))
    return sorted(pages)


def test_any_query_or_path_parameter_on_any_page_is_answered(shop: Shop) -> None:
    pages = _pages(shop.app)
    assert any(rule.startswith("/staff/orders/") for rule, _ in pages)
    known = {"token": (shop.token,), "number": (shop.number,), "line_id": ("1",),
             "plan_id": ("1",)}

    @st.composite
    def request_(draw: st.DrawFn) -> tuple[str, str]:
        rule, arguments = draw(st.sampled_from(pages))
        path = rule
        for argument in arguments:
            value = draw(values(known.get(argument, ("1",))))
            raw = value.encode("utf-8", "surrogatepass")
            path = path.replace(f"<{argument}>", quote_from_bytes(raw, safe=""))
            for converter in ("int", "string", "path"):
                path = path.replace(f"<{converter}:{argument}>", quote_from_bytes(raw, safe=""))
        names = draw(st.lists(st.one_of(st.sampled_from(QUERY_NAMES), values()), max_size=4))
        query = encode([(name, draw(values(("cs_test_1", "paid", "package", "CP", "2"))))
                        for name in names])
        return path, query

    @SETTINGS
    @given(request_(), st.booleans())
    def check(target: tuple[str, str], as_staff: bool) -> None:
        path, query = target
        client = shop.staff if as_staff or path.startswith("/staff") else shop.donor
        response = client.get(f"{path}?{query}", headers={"Accept": "text/html"})
        _assert_answered(response, f"GET {path}?{query:.300}")

    check()


def test_cleaned_text_reaches_the_order_as_one_line(shop: Shop) -> None:
    """The cleaning is real: what is kept is the donor's text without what breaks it."""
    token = csrf_token(shop.donor, "/cart")
    response = _post(shop.donor, "/checkout", [("email", " donor@example.org\x00 "),
                                               ("name", "Dana\r\n\u202eRivera\x00")], token)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with shop.app.app_context():
        order = db.session.scalars(db.select(Order).order_by(Order.id.desc())).first()
        assert order is not None
        assert (order.name, order.email) == ("Dana Rivera", "donor@example.org")
    response = shop.staff.get("/staff/orders?q=" + quote("Dana\x00"))
    assert response.status_code == 200
