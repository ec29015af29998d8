"""Staff actions that cannot hurt: shipping only what ships, the amended receipt after a
refund, an audit log of every action, and viewers refused every action."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db
from shop.orders.models import Order, OrderLine, SideEffect
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    MANAGER,
    make_order,
    manager,
    order_state,
    page_of,
    post_action,
    staff_client,
    viewer,
)
from tests.integration.test_staff_refunds import refund
from tests.pdfs import pdf_text
from tests.servers import SmtpSink, text_of
from tests.support import StripeStandIn, buy_and_pay, csrf_token, post_event

SHIP_BUTTON = 'data-testid="staff-ship-button"'


def change(app: Flask, number: str, **changes: object) -> None:
    """Put an order in a state the shop reaches by other paths (held note, unit line)."""
    with app.app_context():
        order = db.session.scalars(db.select(Order).where(Order.number == number)).one()
        line: OrderLine = order.lines[0]
        for key, value in changes.items():
            if key == "packing_status":
                effect: SideEffect | None = order.side_effect("packing_order")
                assert effect is not None
                effect.status = str(value)  # type: ignore[assignment]
            else:
                setattr(line, key, value)
        db.session.commit()


def assert_not_shippable(app: Flask, staff: FlaskClient, number: str, words: str) -> None:
    html = page_of(staff, number)
    assert SHIP_BUTTON not in html, number
    before = order_state(app, number)
    response = post_action(staff, number, "ship", tracking_note="DHL 1")
    assert response.status_code in (303, 409)
    assert words in page_of(staff, number), words
    assert order_state(app, number) == before


def test_only_an_order_that_ships_something_of_its_own_can_be_marked_shipped(
    app: Flask, manager: FlaskClient,  # noqa: F811
) -> None:
    gift = make_order(app, status="paid", kind="donation")
    assert_not_shippable(app, manager, gift, "it is a gift, nothing ships")

    in_a_unit = make_order(app, status="paid", packing=None)
    change(app, in_a_unit, join_unit=True)
    assert_not_shippable(app, manager, in_a_unit, "its packages travel with a unit")

    note_waits = make_order(app, status="paid", packing="held", note="Stay warm")
    change(app, note_waits, note_review="pending")
    assert_not_shippable(app, manager, note_waits, "a note of support waits for approval")

    not_at_partner = make_order(app, status="paid", packing="failed", last_error="down")
    assert_not_shippable(app, manager, not_at_partner, "has not reached the partner")

    ships = make_order(app, status="paid")
    assert SHIP_BUTTON in page_of(manager, ships)
    assert post_action(manager, ships, "ship").status_code == 303
    assert order_state(app, ships)[0] == "fulfilled"


def test_a_disputed_order_is_not_marked_shipped(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn,
) -> None:
    from tests.support import dispute_at_stripe

    _, paid = buy_and_pay(client, stripe_stand_in)
    post_event(client, paid)
    change(app, "CP-000001", packing_status="done")
    _, opened = dispute_at_stripe(stripe_stand_in, paid)
    post_event(client, opened)
    assert order_state(app, "CP-000001")[0] == "disputed"
    assert_not_shippable(app, manager, "CP-000001", "a dispute holds it")


def test_resending_the_receipt_after_a_partial_refund_sends_the_amended_receipt(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, "unit-ten-pack", gift="25")
    post_event(client, paid)
    [original] = mailbox.to("donor@example.org", "receipt")
    assert "amended" not in original["Subject"].lower()

    refund(manager, "CP-000001", "40.00")
    post_event(client, stripe_stand_in.events("charge.refunded")[-1])
    html = page_of(manager, "CP-000001")
    assert "Resend amended receipt" in html
    response = post_action(manager, "CP-000001", "resend-receipt")
    assert response.status_code == 303
    assert "The amended receipt for CP-000001 (refunded $40.00 of $615.00)" in page_of(
        manager, "CP-000001")

    amended = mailbox.to("donor@example.org", "receipt")[-1]
    assert amended["Subject"].startswith("Your amended receipt")
    text = text_of(amended)
    assert "AMENDED RECEIPT for order CP-000001" in text
    assert "TOTAL PAID: $615.00" in text and "REFUNDED: $40.00" in text
    # The refund comes off the gift first: $575.00 kept, all of it care packages.
    assert "KEPT BY THE CHARITY: $575.00" in text
    assert "$575.00 remains a purchase of care packages" in text
    [attachment] = list(amended.iter_attachments())
    pdf = pdf_text(attachment.get_content())
    for expected in ("Amended receipt number: R-CP-000001", "Total paid $615.00",
                     "Refunded -$40.00", "Kept by the charity $575.00",
                     "Remains a purchase of care packages $575.00"):
        assert expected in pdf, expected
    assert "Remains a gift" not in pdf


def test_every_staff_action_is_in_the_audit_log_with_who_when_and_where(
    app: Flask, runner: FlaskCliRunner, manager: FlaskClient,  # noqa: F811
) -> None:
    number = make_order(app, status="paid")
    post_action(manager, number, "ship", tracking_note="DHL 42")
    post_action(manager, number, "resend-receipt")
    html = page_of(manager, number)
    actions = re.findall(r'data-testid="staff-timeline-audit" data-action="([^"]+)"', html)
    assert actions == ["order.ship", "order.resend_receipt"]
    assert f"{MANAGER} · from 127.0.0.1" in html

    assert manager.get("/staff/audit").status_code == 403
    admin = staff_client(app, runner, "admin@charity.example", "admin")
    log = admin.get("/staff/audit").get_data(as_text=True)
    rows = re.findall(r'data-testid="staff-audit-row" data-action="([^"]+)"', log)
    assert rows[:3] == ["login", "order.resend_receipt", "order.ship"]
    assert "login" in rows[3:]  # the manager's own login
    # A page link that is not an id (edited by hand, cut short) shows the newest entries.
    for before in ("2147483648", "9223372036854775808", "-1", "\u0663", "1e3", ""):
        page = admin.get("/staff/audit", query_string={"before": before})
        assert page.status_code == 200, before
        assert re.findall(r'data-testid="staff-audit-row" data-action="([^"]+)"',
                          page.get_data(as_text=True))[:3] == rows[:3]
    assert "Marked shipped. Tracking: DHL 42" in log and "127.0.0.1" in log
    only_ships = admin.get("/staff/audit?action=order.ship").get_data(as_text=True)
    assert re.findall(r'data-action="([^"]+)"', only_ships.split("<tbody>")[1]) == [
        "order.ship"]


def test_a_viewer_sees_no_action_buttons_and_every_action_post_is_refused(
    app: Flask, viewer: FlaskClient,  # noqa: F811
) -> None:
    number = make_order(app, status="needs_review", packing="failed", receipt="failed",
                        review_reason="amount differs")
    html = page_of(viewer, number)
    assert 'data-testid="staff-actions"' not in html
    assert "<button" not in html.split('data-testid="staff-logout-button"')[1]
    before = order_state(app, number)
    token = csrf_token(viewer, f"/staff/orders/{number}")
    for path in ("ship", "resend-receipt", "retry-packing-order", "approve", "refund",
                 "refund/1/retry"):
        response = viewer.post(f"/staff/orders/{number}/{path}",
                               data={"csrf_token": token, "amount": "1", "confirm": "yes",
                                     "reason": "duplicate"})
        assert response.status_code == 403, path
    for path in ("/staff/notes/1/approve", "/staff/notes/1/reject", "/staff/units/1/ship",
                 "/staff/units/1/retry-packing-order"):
        assert viewer.post(path, data={"csrf_token": token}).status_code == 403, path
    assert viewer.get("/staff/audit").status_code == 403
    assert order_state(app, number) == before
