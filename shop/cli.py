"""The `flask --app shop ...` commands of the shop."""

from __future__ import annotations

import time
from datetime import datetime

import click
from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError

from shop import jobs
from shop.campaign.check import check_totals
from shop.campaign.service import cached_totals, current_campaign
from shop.catalog.service import seed_winter_campaign
from shop.config_cli import check_config_command
from shop.extensions import db, utcnow
from shop.money import format_money
from shop.notifications import mailer, statements
from shop.payments.client import PaymentError
from shop.payments.handlers import HANDLERS
from shop.payments.reconcile import parse_duration, reconcile
from shop.units.service import close_campaign


def register_commands(app: Flask) -> None:
    app.cli.add_command(check_config_command)

    @app.cli.command("seed")
    def seed() -> None:
        """Create or update the demo catalog: the winter campaign."""
        changes = seed_winter_campaign(current_app.config["CURRENCY"])
        db.session.commit()
        if changes:
            for change in changes:
                click.echo(change)
        else:
            click.echo("catalog already up to date")

    @app.cli.command("reconcile")
    @click.option("--since", "since", default="2d", show_default=True,
                  help="How far back to look at Stripe: 2d, 6h, 30m ...")
    def reconcile_command(since: str) -> None:
        """Ask Stripe for recent sessions, refunds and disputes; repair missed events."""
        try:
            window = parse_duration(since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--since") from exc
        try:
            report = reconcile(utcnow() - window, handlers=HANDLERS,
                               checkpoint=db.session.commit)
        except PaymentError as exc:
            db.session.rollback()
            raise click.ClickException(f"Stripe is unavailable, try again: {exc}") from exc
        db.session.commit()
        for line in report.lines():
            click.echo(line)

    @app.cli.command("sweep")
    @click.option("--every", type=float, default=0.0,
                  help="Repeat every N seconds (0: once). `make run` uses this without beat.")
    def sweep(every: float) -> None:
        """Send again every receipt and packing order still pending past its deadline."""
        while True:
            jobs.send_now(jobs.SWEEP_PENDING)
            if every <= 0:
                return
            time.sleep(every)

    @app.cli.command("year-end-statements")
    @click.option("--year", type=int, default=None,
                  help="The calendar year (UTC) to report; default: last year.")
    @click.option("--send", is_flag=True,
                  help="Email the statements. Without it, only print what would be sent.")
    @click.option("--email", default=None, help="Only this donor's statement.")
    def year_end_statements(year: int | None, send: bool, email: str | None) -> None:
        """Email each donor one statement of a year's gifts and care packages (with a PDF)."""
        now = utcnow()
        year = statements.default_year(now) if year is None else year
        problem = statements.year_problem(year, now=now, sending=send)
        if problem:
            raise click.BadParameter(problem, param_hint="'--year'")
        found = statements.statements_for_year(year, email=email)
        done = statements.sent_already(year)
        if not found:
            who = f" from {email}" if email else ""
            click.echo(f"No gifts received in {year}{who}: no statements to send.")
            return
        outcomes: dict[str, int] = {"sent": 0, "already sent": 0, "failed": 0}
        for statement in found:
            if (statement.email, statement.currency) in done:
                click.echo(f"already sent to {statement.summary}")
                outcomes["already sent"] += 1
            elif not send:
                click.echo(f"would send to {statement.summary}")
            else:
                outcomes[_send_statement(statement, issued=now)] += 1
        if not send:
            orders = sum(s.order_count for s in found)
            click.echo(f"{year}: {_count(len(found), 'donor')}, {_count(orders, 'order')}, "
                       f"{statements.totals_by_currency(found)}; "
                       f"{outcomes['already sent']} already sent. "
                       "Dry run: nothing was sent; add --send to email them.")
            return
        click.echo(f"{year}: " + ", ".join(f"{what} {n}" for what, n in outcomes.items()) + ".")
        if outcomes["failed"]:
            raise click.exceptions.Exit(1)

    @app.cli.command("close-campaign")
    @click.option("--policy", type=click.Choice(["ship", "hold"]), default=None,
                  help="What to do with partly filled units (default: UNIT_PARTIAL_POLICY).")
    @click.option("--before-end", is_flag=True,
                  help="Close now even though the campaign's end date has not passed.")
    def close_campaign_command(policy: str | None, before_end: bool) -> None:
        """Ship (or hold) the partly filled units once the campaign has ended. Safe to rerun."""
        report = close_campaign(
            policy=policy or current_campaign().partial_policy, now=utcnow(),
            force=before_end,
        )
        db.session.commit()  # unit packing orders are handed over after this commit
        for line in report.lines:
            click.echo(line)

    @app.cli.command("campaign-totals")
    def campaign_totals() -> None:
        """Recount the campaign's progress and units (e.g. after changing its dates) and
        print it, with any drift the recount corrected."""
        corrections = check_totals()
        db.session.commit()
        for line in corrections:
            click.echo(line)
        campaign = current_campaign()
        row = cached_totals(campaign)
        assert row is not None  # the recount made it
        click.echo(
            f"{row.name}: {row.packages_funded} of {campaign.goal_packages} "
            f"packages funded, {format_money(row.raised_cents, row.currency)} raised of "
            f"{format_money(campaign.goal_cents, row.currency)}"
        )

    from shop.payments.cli import register_payment_commands
    from shop.staff.cli import register_staff_commands

    register_payment_commands(app)
    register_staff_commands(app)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _send_statement(statement: statements.Statement, *, issued: datetime) -> str:
    """Claim, send and commit one donor's statement: a crash later never sends it again."""
    try:
        record = statements.claim(statement)
    except IntegrityError:
        db.session.rollback()  # another run got there first
        click.echo(f"already sent to {statement.summary}")
        return "already sent"
    try:
        record.message_id = mailer.send(statements.statement_message(statement, issued=issued))
    except mailer.MailError as exc:
        db.session.rollback()  # not recorded, so the next run tries this donor again
        click.echo(f"could not send to {statement.summary}: {exc}", err=True)
        return "failed"
    db.session.commit()
    click.echo(f"sent to {statement.summary}")
    return "sent"
