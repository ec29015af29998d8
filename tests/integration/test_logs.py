"""The app's logs over a purchase and a failed login: no donor email, token or typed password."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests.servers import SmtpSink
from tests.support import StripeStandIn, buy_and_pay, csrf_token, post_event

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_logs_keep_no_donor_email_token_or_typed_login(
    client: FlaskClient, stripe_stand_in: StripeStandIn, mailbox: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    donor = "dana.private@example.org"
    token, event = buy_and_pay(client, stripe_stand_in, variant="single-package", email=donor,
                               name="Dana Private")
    session_id = event["data"]["object"]["id"]
    assert post_event(client, event).status_code == 200
    assert mailbox.to(donor), "the receipt went out (and was logged)"
    assert client.get(f"/orders/{token}?session_id={session_id}").status_code == 200
    assert client.get(f"/api/orders/{token}").status_code == 200
    typed_email, typed_password = "typed.login@example.org", "Typed-Secret-42"
    refused = client.post("/staff/login", data={
        "email": typed_email, "password": typed_password,
        "csrf_token": csrf_token(client, "/staff/login")})
    assert refused.status_code == 401
    # The development server's request line for a donor's page.
    logging.getLogger("werkzeug").info('127.0.0.1 - - "%s" %s -',
                                       f"GET /orders/{token}?session_id={session_id} HTTP/1.1", 200)

    # aiosmtpd's own log is the test's mail server, not the shop.
    logged = "\n".join(record.getMessage() for record in caplog.records
                       if record.name != "mail.log")
    assert "mail " in logged and "d***@example.org" in logged
    assert "GET /orders/[token]?session_id=[id]" in logged
    for secret in (donor, "dana.private", token, typed_email, "typed.login", typed_password):
        assert secret not in logged, secret
