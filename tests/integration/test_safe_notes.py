"""Notes that are safe to print: refused at the cart, held for staff, never sent to Stripe."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.cart.models import CartLine
from shop.cart.notes import CONTACT_MESSAGE, LOCATION_MESSAGE
from shop.extensions import db
from tests.support import StripeStandIn, add_to_cart, csrf_token

REVIEW = {"NOTE_REVIEW_TERMS": "hospital"}
HELD_NOTE = "Get well soon, everyone at the hospital"


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
    assert 'data-testid="note">ring 0671234567</textarea>' in html
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

