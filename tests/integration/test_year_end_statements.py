"""`flask --app shop year-end-statements`: one statement of the year's giving per donor."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db, utcnow
from shop.notifications.models import YearEndStatement
from shop.orders.models import Order, OrderLine
from tests.pdfs import pdf_text
from tests.servers import SmtpSink, html_of, text_of
from tests.support import StripeStandIn, buy_and_pay, post_event


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def make_order(
    email: str, paid_at: datetime | None, *, status: str = "paid", name: str = "",
    packages: int = 0, gift_cents: int = 0, refunded_cents: int = 0,
) -> str:
    """A paid (or not) order straight into the database; returns its number."""
    order = Order(token=secrets.token_urlsafe(24), status=status, kind="mixed", email=email,
                  name=name, currency="usd", total_cents=packages * 6500 + gift_cents,
                  packages=packages, paid_at=paid_at, refunded_cents=refunded_cents)
    if packages:
        order.lines.append(OrderLine(kind="package", bundle_slug="single-package",
                                     name="Single care package", unit_price_cents=6500,
                                     quantity=packages, packages=1, note="Stay warm"))
    if gift_cents:
        order.lines.append(OrderLine(kind="donation", name="Gift to the winter campaign",
                                     unit_price_cents=gift_cents, quantity=1))
    db.session.add(order)
    db.session.flush()
    order.number = f"CP-{order.id:06d}"
    return order.number


@pytest.fixture
def donors(app: Flask, client: FlaskClient, stripe_stand_in: StripeStandIn,
           mailbox: SmtpSink) -> dict[str, str]:
    """Alice gives in 2025 (twice, typing her address two ways) and 2026; Bob's 2025 gift
    was partly refunded and another fully; Carol never paid; Dave gave in 2026 only."""
    token, event = buy_and_pay(client, stripe_stand_in, "unit-ten-pack", gift="25",
                               email="alice@example.org", name="Alice Cohen אליס")
    assert post_event(client, event).status_code == 200
    with app.app_context():
        bought = db.session.scalars(db.select(Order).where(Order.token == token)).one()
        bought.paid_at = at(2025, 12, 31, 23, 59, 59)  # $615.00, the year's last second
        numbers = {
            "alice_bought": bought.number or "",
            "alice_gift": make_order("ALICE@Example.org", at(2025, 1, 15), gift_cents=10000),
            "alice_2026": make_order("alice@example.org", at(2026, 1, 1), gift_cents=5000),
            "bob_refunded_part": make_order(
                "bob@example.org", at(2025, 6, 1), status="partially_refunded",
                name="Bob", packages=2, gift_cents=7000, refunded_cents=5000),
            "bob_refunded": make_order("bob@example.org", at(2025, 7, 1), status="refunded",
                                       gift_cents=8000, refunded_cents=8000),
            "carol_unpaid": make_order("carol@example.org", None, status="pending",
                                       gift_cents=3000),
            "carol_failed": make_order("carol@example.org", None, status="failed",
                                       gift_cents=3000),
            "dave_2026": make_order("dave@example.org", at(2026, 2, 2), gift_cents=2000),
        }
        db.session.commit()
    mailbox.reset()  # the receipt of Alice's checkout is not what these tests look at
    return numbers


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(args=["year-end-statements", *args])
    return result.exit_code, result.output


def recorded(app: Flask) -> dict[str, tuple[int, int, str | None]]:
    with app.app_context():
        rows = db.session.scalars(db.select(YearEndStatement).where(YearEndStatement.year == 2025))
        return {row.email: (row.total_cents, row.order_count, row.message_id) for row in rows}


def test_a_dry_run_prints_each_donor_s_total_and_sends_nothing(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    code, output = run(runner, "--year", "2025")
    assert code == 0, output
    assert output.splitlines() == [
        "would send to alice@example.org: 2 orders, $715.00",
        "would send to bob@example.org: 1 order, $150.00",
        "2025: 2 donors, 3 orders, $865.00; 0 already sent. "
        "Dry run: nothing was sent; add --send to email them.",
    ]
    assert mailbox.messages == [] and recorded(app) == {}


def test_send_emails_one_statement_per_donor_with_the_year_s_total_and_a_pdf(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    code, output = run(runner, "--year", "2025", "--send")
    assert code == 0, output
    assert "sent to alice@example.org: 2 orders, $715.00" in output
    assert "2025: sent 2, already sent 0, failed 0." in output
    assert len(mailbox.messages) == 2

    [alice] = mailbox.to("alice@example.org")
    assert "2025" in str(alice["Subject"])
    text = text_of(alice)
    assert "Dear Alice Cohen אליס," in text and "TOTAL 2025: $715.00 (2 orders)" in text
    assert donors["alice_bought"] in text and donors["alice_gift"] in text
    assert donors["alice_2026"] not in text
    assert "$715.00" in html_of(alice)
    [attachment] = list(alice.iter_attachments())
    assert attachment.get_filename() == "statement-2025.pdf"
    pdf = pdf_text(attachment.get_content())
    for expected in ("Warm Hands Test Charity", "Tax ID: 12-3456789", "5 Test Lane, Springfield",
                     "Year-end statement 2025", "alice@example.org", donors["alice_bought"],
                     "31 Dec 2025", donors["alice_gift"], "15 Jan 2025",
                     "Total received in 2025 $715.00",
                     "No goods or services were provided in exchange for your gift"):
        assert expected in pdf, expected
    assert donors["alice_2026"] not in pdf

    [bob] = mailbox.to("bob@example.org")
    bob_pdf = pdf_text(next(bob.iter_attachments()).get_content())
    assert f"{donors['bob_refunded_part']} 01 Jun 2025 $130.00 $70.00 -$50.00 $150.00" in bob_pdf
    assert donors["bob_refunded"] not in bob_pdf and "Total received in 2025 $150.00" in bob_pdf
    assert mailbox.to("carol@example.org") == [] and mailbox.to("dave@example.org") == []

    rows = recorded(app)
    assert {email: row[:2] for email, row in rows.items()} == {
        "alice@example.org": (71500, 2), "bob@example.org": (15000, 1)}
    assert rows["alice@example.org"][2] == str(alice["Message-ID"])


def test_sending_again_sends_nothing_new(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    assert run(runner, "--year", "2025", "--send")[0] == 0
    code, output = run(runner, "--year", "2025", "--send")
    assert code == 0, output
    assert "already sent to alice@example.org: 2 orders, $715.00" in output
    assert "2025: sent 0, already sent 2, failed 0." in output
    assert len(mailbox.messages) == 2
    assert "already sent to bob@example.org" in run(runner, "--year", "2025")[1]


def test_email_limits_the_run_to_one_donor_whatever_the_case(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    code, output = run(runner, "--year", "2025", "--send", "--email", "Bob@Example.org")
    assert code == 0, output
    assert [m["To"] for m in mailbox.messages] == ["bob@example.org"]
    assert "alice" not in output
    code, output = run(runner, "--year", "2025", "--send")
    assert "already sent to bob@example.org" in output and "sent to alice@example.org" in output
    assert len(mailbox.messages) == 2
    assert "No gifts received in 2025 from carol@example.org" in run(
        runner, "--year", "2025", "--email", "carol@example.org")[1]


def test_a_refused_email_is_reported_and_sent_on_the_next_run(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    mailbox.refuse_next = 1  # Alice's, the first in the run
    code, output = run(runner, "--year", "2025", "--send")
    assert code == 1
    assert "could not send to alice@example.org" in output
    assert "2025: sent 1, already sent 0, failed 1." in output
    assert set(recorded(app)) == {"bob@example.org"}
    code, output = run(runner, "--year", "2025", "--send")
    assert code == 0, output
    assert "sent to alice@example.org" in output and "already sent to bob@example.org" in output
    assert [m["To"] for m in mailbox.messages] == ["bob@example.org", "alice@example.org"]


def test_the_year_so_far_can_be_previewed_but_not_sent(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, donors: dict[str, str],
) -> None:
    this_year = str(utcnow().year)
    code, output = run(runner, "--year", this_year, "--send")
    assert code != 0 and f"{this_year} is not over yet" in output
    assert mailbox.messages == [] and recorded(app) == {}
    if this_year == "2026":
        code, output = run(runner, "--year", "2026")
        assert code == 0 and "would send to dave@example.org: 1 order, $20.00" in output


@pytest.mark.parametrize(("year", "message"), [
    ("1800", "1800 is not a year to send statements for"),
    ("abc", "'abc' is not a valid integer"),
    (str(datetime.now(UTC).year + 1), "is not a year to send statements for"),
])
def test_a_bad_year_is_refused_with_a_clear_message(
    app: Flask, runner: FlaskCliRunner, mailbox: SmtpSink, year: str, message: str,
) -> None:
    code, output = run(runner, "--year", year, "--send")
    assert code != 0
    assert message in output
    assert mailbox.messages == []


def test_the_year_defaults_to_last_year(app: Flask, runner: FlaskCliRunner) -> None:
    last_year = utcnow().year - 1
    code, output = run(runner)
    assert code == 0, output
    assert output == run(runner, "--year", str(last_year))[1]
    assert str(last_year) in output
