"""The charity's pages: about, contact, privacy and refund policy, worded by settings."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support import StripeStandIn


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_every_page_links_the_charitys_pages_and_shows_its_registration(
    client: FlaskClient,
) -> None:
    for path in ("/", "/donate", "/cart"):
        html = client.get(path).get_data(as_text=True)
        for link in ('href="/about"', 'href="/contact"', 'href="/privacy"',
                     'href="/refund-policy"'):
            assert link in html, (path, link)
        assert "Registered charity · Tax ID 12-3456789" in html


def test_the_pages_say_who_the_charity_is_and_how_to_reach_it(client: FlaskClient) -> None:
    about = client.get("/about").get_data(as_text=True)
    assert "<h1>About us</h1>" in about
    assert "Warm Hands Test Charity is a registered charity, tax ID 12-3456789" in about
    contact = client.get("/contact").get_data(as_text=True)
    assert 'href="mailto:hello@example.org"' in contact and "5 Test Lane, Springfield" in contact
    privacy = client.get("/privacy").get_data(as_text=True)
    assert "never reach us" in privacy and "write to hello@example.org" in privacy
    refunds = client.get("/refund-policy").get_data(as_text=True)
    assert "<h1>Refunds</h1>" in refunds and "within 30 days" in refunds


@pytest.mark.shop_config({
    "ABOUT_TEXT": "We are {org}.\n\nOur number is {tax_id}; a stray {brace stays.",
    "ORG_EMAIL": "care@warmhands.test", "ORG_PHONE": "+1 555 0100",
    "REFUND_POLICY_TEXT": "Write to {email} <b>now</b>.",
})
def test_the_words_come_from_settings_as_paragraphs_and_are_escaped(
    app: Flask, client: FlaskClient
) -> None:
    about = client.get("/about").get_data(as_text=True)
    assert "<p>We are Warm Hands Test Charity.</p>" in about
    assert "<p>Our number is 12-3456789; a stray {brace stays.</p>" in about
    contact = client.get("/contact").get_data(as_text=True)
    assert 'href="tel:+15550100"' in contact and 'href="mailto:care@warmhands.test"' in contact
    refunds = client.get("/refund-policy").get_data(as_text=True)
    assert "Write to care@warmhands.test &lt;b&gt;now&lt;/b&gt;." in refunds


def test_thanks_come_only_after_payment(
    client: FlaskClient, stripe_stand_in: StripeStandIn
) -> None:
    from tests.support import add_to_cart, checkout, donate, post_event

    donate(client, "36")
    cart = client.get("/cart").get_data(as_text=True)
    assert "Your gift of $36.00 is in your cart" in cart and "Thank you" not in cart
    add_to_cart(client, "single-package")
    location = checkout(client, email="dana@example.org", name="Dana").location
    [session] = stripe_stand_in.sessions()
    token = session["success_url"].split("/orders/")[1].split("?")[0]
    waiting = client.get(f"/orders/{token}").get_data(as_text=True)
    assert "We are confirming your payment" in waiting and "Thank you" not in waiting
    # Stripe's back link: nothing charged, the cart kept, said once on the plain address.
    back = client.get("/cart?checkout=cancelled")
    assert back.status_code == 302 and back.location.endswith("/cart")
    assert "nothing was charged. Your cart is kept" in client.get("/cart").get_data(
        as_text=True)
    assert "nothing was charged" not in client.get("/cart").get_data(as_text=True)

    stripe_stand_in.pay(location.rstrip("/").rsplit("/", 1)[-1])
    [event] = stripe_stand_in.events("checkout.session.completed")
    assert post_event(client, event).status_code == 200
    paid = client.get(f"/orders/{token}").get_data(as_text=True)
    assert "Thank you, Dana! Your support is on its way to soldiers this winter." in paid
