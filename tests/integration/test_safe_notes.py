"""Notes that are safe to print: refused at the cart, held for staff, never sent to Stripe."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.cart.models import CartLine
from shop.cart.notes import CONTACT_MESSAGE, LOCATION_MESSAGE
from shop.extensions import db
from shop.orders.models import OrderEvent, OrderLine, SideEffect
from tests.integration.test_staff import HTML, MANAGER, manager, viewer  # noqa: F401  (fixtures)
from tests.servers import PartnerServer, SmtpSink, html_of, text_of
from tests.support import (
    StripeStandIn,
    add_to_cart,
    buy_and_pay,
    checkout,
    csrf_token,
    post_event,
    stripe_get,
)

REVIEW = {"NOTE_REVIEW_TERMS": "hospital"}
HELD_NOTE = "Get well soon, everyone at the hospital"
ROW = re.compile(r'data-testid="staff-note-row" data-line-id="\d+" data-number="([^"]+)"')


def cart_lines(app: Flask) -> list[CartLine]:
    with app.app_context():
        lines = list(db.session.scalars(db.select(CartLine)))
        for line in lines:
            db.session.expunge(line)
        return lines


# --- at the cart -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("Call me on +380 67 123 45 67", CONTACT_MESSAGE),
        ("write to me: olena@example.org", CONTACT_MESSAGE),
        ("photos at t.me/warmhands", CONTACT_MESSAGE),
        ("Greetings to the 93rd brigade", LOCATION_MESSAGE),
    ],
)
def test_a_refused_note_is_explained_and_nothing_is_written(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn, note: str, message: str,
) -> None:
    response = add_to_cart(client, "unit-ten-pack", 1, note)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert cart_lines(app) == []
    assert stripe_stand_in.sessions() == []


def test_the_refusal_keeps_what_the_donor_typed_in_the_form_to_fix_it(
    client: FlaskClient,
) -> None:
    html = add_to_cart(client, "single-package", 1, "ring 0671234567").get_data(as_text=True)
    assert re.search(r'<textarea[^>]*data-testid="note"[^>]*>ring 0671234567</textarea>', html)
    assert html.count("0671234567") == 1  # the message itself does not repeat it


def test_a_refused_note_on_a_cart_line_changes_nothing(
    app: Flask, client: FlaskClient,
) -> None:
    add_to_cart(client, "single-package", 1, "Stay warm")
    [line] = cart_lines(app)
    response = client.post(
        f"/cart/lines/{line.id}",
        data={"quantity": "4", "note": "see www.example.org",
              "csrf_token": csrf_token(client, "/cart")},
    )
    assert response.status_code == 422
    assert CONTACT_MESSAGE in response.get_data(as_text=True)
    [unchanged] = cart_lines(app)
    assert (unchanged.quantity, unchanged.note) == (1, "Stay warm")


def test_ordinary_notes_with_numbers_emoji_and_other_scripts_are_accepted(
    app: Flask, client: FlaskClient,
) -> None:
    notes = ["Stay warm at the front", "10 packages from class 4B, winter 2026 🧤",
             "Тримайтеся! Ми з вами 🇺🇦", "שמרו על עצמכם"]
    for note in notes:
        assert add_to_cart(client, "single-package", 1, note).status_code == 302
    html = client.get("/cart").get_data(as_text=True)
    for note in notes:
        assert note in html
    assert [line.note_review for line in cart_lines(app)] == [None] * 4


@pytest.mark.shop_config({"NOTE_ALLOW_EMOJI": False})
def test_without_emoji_the_cart_shows_the_cleaned_note_and_says_why(
    app: Flask, client: FlaskClient,
) -> None:
    response = add_to_cart(client, "single-package", 1, "Stay warm 🧤❤️ and safe 👍🏽")
    assert response.status_code == 302
    html = client.get("/cart").get_data(as_text=True)
    assert "“Stay warm and safe”" in html
    assert "Emoji were removed from your note because our packing partner cannot print" in html
    assert [line.note for line in cart_lines(app)] == ["Stay warm and safe"]


@pytest.mark.shop_config(REVIEW)
def test_a_note_on_the_review_list_is_accepted_and_marked_for_staff(
    app: Flask, client: FlaskClient,
) -> None:
    response = add_to_cart(client, "single-package", 1, HELD_NOTE)
    assert response.status_code == 302
    html = client.get("/cart").get_data(as_text=True)
    assert HELD_NOTE in html and "Our team reads some notes before they are printed" in html
    [line] = cart_lines(app)
    assert line.note_review == "pending" and '"hospital"' in (line.note_review_reason or "")

    # Rewritten without the word, the note no longer waits.
    client.post(f"/cart/lines/{line.id}", data={
        "quantity": "1", "note": "Get well soon", "csrf_token": csrf_token(client, "/cart")})
    assert [(line.note, line.note_review) for line in cart_lines(app)] == [
        ("Get well soon", None)]



# --- after payment: the packing order waits for staff ------------------------------------


def sweep(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output


def packing_order(app: Flask) -> SideEffect:
    with app.app_context():
        effect: SideEffect = db.session.scalars(
            db.select(SideEffect).where(SideEffect.kind == "packing_order")).one()
        db.session.expunge(effect)
        return effect


def timeline(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.kind, e.actor, e.message)
                for e in db.session.scalars(db.select(OrderEvent).order_by(OrderEvent.id))]


def queue_rows(staff: FlaskClient) -> list[str]:
    response = staff.get("/staff/notes")
    assert response.status_code == 200
    return ROW.findall(response.get_data(as_text=True))


def line_ids(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(OrderLine.id).order_by(OrderLine.id)))


def decide(staff: FlaskClient, line_id: int, decision: str, **data: str) -> Any:
    token = csrf_token(staff, "/staff/notes")
    return staff.post(f"/staff/notes/{line_id}/{decision}", data={"csrf_token": token} | data)


def partner_notes(partner: PartnerServer) -> list[list[str]]:
    return [[line["note"] for line in json.loads(r["raw"])["lines"]] for r in partner.requests]


@pytest.mark.shop_config(REVIEW)
def test_a_held_note_keeps_the_packing_order_until_a_manager_approves_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer, mailbox: SmtpSink,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    assert post_event(client, paid).status_code == 200
    sweep(runner)

    assert partner.requests == []
    assert len(mailbox.to("donor@example.org", "receipt")) == 1  # the receipt does not wait
    assert packing_order(app).status == "held"
    assert ("packing_order_held", "system", "Packing order held: a note waits for approval"
            ) in timeline(app)
    assert client.get(f"/api/orders/{token}").get_json()["fulfilment_status"] == "held"

    queue = manager.get("/staff/notes").get_data(as_text=True)
    assert 'data-testid="staff-note-queue"' in queue and "Notes to review (1)" in queue
    assert queue_rows(manager) == ["CP-000001"]
    assert HELD_NOTE in queue and "a word on the review list" in queue
    assert 'href="/staff/orders/CP-000001"' in queue
    page = manager.get("/staff/orders/CP-000001").get_data(as_text=True)
    assert 'data-testid="staff-note-pending"' in page
    assert 'data-testid="staff-packing-held-for-notes"' in page

    [line_id] = line_ids(app)
    response = decide(manager, line_id, "approve")
    assert response.status_code == 303 and response.location.endswith("/staff/notes")
    followed = manager.get(response.location).get_data(as_text=True)
    assert "The note on CP-000001 is approved for printing." in followed
    assert "The packing order is on its way to the partner." in followed
    assert "Notes to review (0)" in followed and 'data-testid="staff-no-notes"' in followed

    assert partner_notes(partner) == [[HELD_NOTE]]
    sweep(runner)
    assert len(partner.requests) == 1 and len(partner.accepted) == 1
    assert packing_order(app).status == "done"
    assert ("note_approved", MANAGER, "Note on Unit ten-pack approved for printing"
            ) in timeline(app)
    assert 'data-review="approved"' in manager.get("/staff/orders/CP-000001").get_data(
        as_text=True)


@pytest.mark.shop_config(REVIEW)
def test_a_rejected_note_ships_the_package_without_it(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer, mailbox: SmtpSink,
) -> None:
    token, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    [line_id] = line_ids(app)

    response = decide(manager, line_id, "reject")
    assert response.status_code == 303
    assert "is rejected; the package ships without it" in manager.get(
        response.location).get_data(as_text=True)
    assert partner_notes(partner) == [[""]]
    assert HELD_NOTE not in partner.requests[0]["raw"].decode()
    assert ("note_rejected", MANAGER,
            "Note on Unit ten-pack rejected: the package ships without it") in timeline(app)

    # The donor's words are kept, and the donor is told they will not travel.
    order_page = client.get(f"/orders/{token}").get_data(as_text=True)
    assert HELD_NOTE in order_page and 'data-testid="order-note-not-printed"' in order_page
    # ... and by email, once; then that the package is on its way.
    [left_out] = mailbox.to("donor@example.org", "note-left-out")
    assert "Your package ships without your note" in str(left_out["Subject"])
    text = " ".join(text_of(left_out).split())
    assert f'Unit ten-pack: "{HELD_NOTE}"' in text and "Your gift is unchanged" in text
    [shipped] = mailbox.to("donor@example.org", "shipped")
    assert "Our packing partner has accepted the packing order for your 10 packages" in \
        " ".join(text_of(shipped).split())


@pytest.mark.shop_config(REVIEW | {"FULFILMENT_URL": None,
                                   "FULFILMENT_EMAIL": "packing@partner.test"})
def test_a_rejected_note_is_left_off_the_emailed_packing_slip(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    assert mailbox.to("packing@partner.test") == []
    decide(manager, line_ids(app)[0], "reject")
    [slip] = mailbox.to("packing@partner.test")
    assert "No note." in text_of(slip) and HELD_NOTE not in text_of(slip)
    assert HELD_NOTE not in html_of(slip)


@pytest.mark.shop_config(REVIEW)
def test_every_held_note_of_an_order_is_decided_before_its_packing_order_goes(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    add_to_cart(client, "unit-ten-pack", 1, HELD_NOTE)
    add_to_cart(client, "single-package", 1, "Stay warm")
    add_to_cart(client, "single-package", 1, "From the hospital staff")
    _, paid = buy_and_pay(client, stripe_stand_in, variant=None)
    post_event(client, paid)
    first, _, third = line_ids(app)
    assert len(queue_rows(manager)) == 2

    back = "/staff/orders/CP-000001"
    response = decide(manager, first, "approve", next=back)
    assert response.location.endswith(back)
    assert "Another note on this order still waits." in manager.get(back).get_data(
        as_text=True)
    assert partner.requests == [] and packing_order(app).status == "held"

    decide(manager, third, "reject")
    assert partner_notes(partner) == [[HELD_NOTE, "Stay warm", ""]]


@pytest.mark.shop_config(REVIEW)
def test_a_decided_note_cannot_be_decided_again(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    [line_id] = line_ids(app)
    decide(manager, line_id, "approve")
    response = decide(manager, line_id, "reject")  # a second manager, a moment later
    assert response.status_code == 303
    assert "The note on CP-000001 was already approved; nothing changed." in manager.get(
        response.location).get_data(as_text=True)
    assert partner_notes(partner) == [[HELD_NOTE]]
    assert [kind for kind, _, _ in timeline(app)].count("note_approved") == 1
    assert "note_rejected" not in [kind for kind, _, _ in timeline(app)]


@pytest.mark.shop_config(REVIEW)
def test_a_viewer_sees_the_queue_but_cannot_decide(
    app: Flask, client: FlaskClient, viewer: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    queue = viewer.get("/staff/notes").get_data(as_text=True)
    assert queue_rows(viewer) == ["CP-000001"]
    assert 'data-testid="staff-note-approve"' not in queue
    assert 'data-testid="staff-note-reject"' not in queue
    [line_id] = line_ids(app)
    for decision in ("approve", "reject"):
        assert decide(viewer, line_id, decision).status_code == 403
    assert packing_order(app).status == "held" and partner.requests == []
    assert queue_rows(viewer) == ["CP-000001"]


@pytest.mark.shop_config(REVIEW)
def test_unknown_lines_forged_forms_and_logged_out_posts_change_nothing(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    add_to_cart(client, "single-package", 1, "Stay warm")
    add_to_cart(client, "unit-ten-pack", 1, HELD_NOTE)
    _, paid = buy_and_pay(client, stripe_stand_in, variant=None)
    post_event(client, paid)
    plain, held = line_ids(app)

    assert decide(manager, 999, "approve").status_code == 404
    assert decide(manager, plain, "approve").status_code == 404  # never needed a review
    assert manager.post(f"/staff/notes/{held}/approve").status_code == 400  # no CSRF token
    assert manager.post(f"/staff/notes/{held}/approve",
                        data={"csrf_token": "forged"}).status_code == 400
    assert manager.post("/staff/notes/abc/approve").status_code == 404
    assert manager.get(f"/staff/notes/{held}/approve").status_code == 405
    anonymous = app.test_client()
    logged_out = anonymous.post(f"/staff/notes/{held}/approve", headers=HTML, data={
        "csrf_token": csrf_token(anonymous, "/staff/login")})
    assert logged_out.status_code == 302 and "/staff/login" in logged_out.location
    assert packing_order(app).status == "held" and partner.requests == []
    assert queue_rows(manager) == ["CP-000001"]


@pytest.mark.shop_config(REVIEW)
def test_only_paid_orders_wait_in_the_queue(
    client: FlaskClient, manager: FlaskClient,  # noqa: F811
) -> None:
    add_to_cart(client, "single-package", 1, HELD_NOTE)
    assert checkout(client).status_code == 303  # at Stripe, never paid
    assert queue_rows(manager) == []
    assert "Notes to review (0)" in manager.get("/staff/orders").get_data(as_text=True)


@pytest.mark.shop_config(REVIEW)
def test_a_won_dispute_does_not_release_a_packing_order_whose_note_still_waits(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    intent = stripe_get(stripe_stand_in,
                        f"payment_intents/{paid['data']['object']['payment_intent']}")
    dispute = stripe_stand_in.dispute(intent["latest_charge"])
    post_event(client, stripe_stand_in.events("charge.dispute.created")[-1])

    decide(manager, line_ids(app)[0], "approve")  # approved during the dispute: still held
    assert partner.requests == [] and packing_order(app).status == "held"

    stripe_stand_in.close_dispute(dispute["id"], "won")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    assert partner_notes(partner) == [[HELD_NOTE]]


@pytest.mark.shop_config(REVIEW)
def test_a_dispute_won_before_staff_decide_leaves_the_note_waiting(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, paid = buy_and_pay(client, stripe_stand_in, note=HELD_NOTE)
    post_event(client, paid)
    intent = stripe_get(stripe_stand_in,
                        f"payment_intents/{paid['data']['object']['payment_intent']}")
    dispute = stripe_stand_in.dispute(intent["latest_charge"])
    post_event(client, stripe_stand_in.events("charge.dispute.created")[-1])
    stripe_stand_in.close_dispute(dispute["id"], "won")
    post_event(client, stripe_stand_in.events("charge.dispute.closed")[-1])
    assert partner.requests == [] and packing_order(app).status == "held"

    decide(manager, line_ids(app)[0], "approve")
    assert partner_notes(partner) == [[HELD_NOTE]]


# --- Stripe never hears a note -----------------------------------------------------------


def test_no_note_text_reaches_stripe(
    app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
) -> None:
    note = "Stay warm, love from the Kowalski family 🧤"
    _, paid = buy_and_pay(client, stripe_stand_in, note=note)
    session_id = paid["data"]["object"]["id"]
    session = stripe_get(stripe_stand_in, f"checkout/sessions/{session_id}")
    items = stripe_get(stripe_stand_in, f"checkout/sessions/{session_id}/line_items")
    intent = stripe_get(stripe_stand_in, f"payment_intents/{session['payment_intent']}")
    assert items["data"], "the session has its line items"
    for stripe_object in (session, items, intent, paid):
        text = json.dumps(stripe_object, ensure_ascii=False)
        assert "Kowalski" not in text and "Stay warm" not in text


# --- no input is a 500 ---------------------------------------------------------------------


@pytest.mark.shop_config({"NOTE_ALLOW_EMOJI": False} | REVIEW)
@pytest.mark.parametrize(
    "raw_note",
    [b"%ED%A0%80", b"%FF%FE%00", b"%00%07", b"%E2%80%8B" * 20, b"%F0%9F%A7%A4" * 600,
     quote("\u202e7654321 llac").encode(), quote("x" * 100_000).encode(),
     quote("\U000e0000\ue000").encode()],
)
def test_odd_bytes_in_a_note_get_an_answer_not_an_error(
    app: Flask, client: FlaskClient, raw_note: bytes,
) -> None:
    body = (b"variant=single-package&quantity=1&csrf_token="
            + csrf_token(client).encode() + b"&note=" + raw_note)
    response = client.post("/cart/add", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 422)
    for line in cart_lines(app):
        assert "\x00" not in line.note and "\u200b" not in line.note


def test_line_ids_too_large_for_the_database_are_not_found(
    manager: FlaskClient,  # noqa: F811
) -> None:
    for line_id in (2**31, 10**20):
        assert decide(manager, line_id, "approve").status_code == 404


@pytest.mark.shop_config(REVIEW | {"UNIT_SIZE": 2})
def test_a_joined_package_with_a_held_note_takes_its_unit_place_only_once_decided(
    app: Flask, client: FlaskClient, manager: FlaskClient,  # noqa: F811
    stripe_stand_in: StripeStandIn, partner: PartnerServer,
) -> None:
    _, held = buy_and_pay(client, stripe_stand_in, "single-package", note=HELD_NOTE,
                          join_unit=True, email="first@example.org")
    post_event(client, held)
    other = app.test_client()
    _, fine = buy_and_pay(other, stripe_stand_in, "single-package", note="Stay warm",
                          join_unit=True, email="second@example.org")
    post_event(other, fine)
    units = client.get("/api/campaign").get_json()["units"]
    assert [u["packages_funded"] for u in units] == [1]  # the held note's package waits
    assert partner.requests == []

    held_line = line_ids(app)[0]  # the first order's only line
    decide(manager, held_line, "reject")
    [body] = [json.loads(r["raw"]) for r in partner.requests]
    assert body["order_number"] == "UNIT-0001"
    assert sorted(line["note"] for line in body["lines"]) == ["", "Stay warm"]
