"""`flask --app shop stripe-webhook-setup`, `stripe-check` and `replay-event`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from shop.extensions import db
from shop.payments import endpoint
from shop.payments.client import PaymentError
from shop.payments.event_state import EventStatus
from shop.payments.events import MalformedEvent, ReplayError, replay
from shop.payments.handlers import HANDLERS


def register_payment_commands(app: Flask) -> None:
    @app.cli.command("stripe-webhook-setup")
    @click.option("--url", required=True,
                  help="Where Stripe sends events: https://HOST/stripe/webhook")
    @click.option("--recreate", is_flag=True,
                  help="Replace an endpoint on another API version (new signing secret).")
    def stripe_webhook_setup(url: str, recreate: bool) -> None:
        """Create or update Stripe's webhook endpoint: the shop's events, its API version."""
        url = url.strip()
        if not url.startswith(("https://", "http://")):
            raise click.BadParameter("give the full address, https://HOST/stripe/webhook",
                                     param_hint="--url")
        try:
            result = endpoint.setup(url, recreate=recreate)
        except endpoint.SetupRefused as exc:
            raise click.ClickException(str(exc)) from exc
        except PaymentError as exc:
            raise click.ClickException(f"Stripe could not be asked, nothing changed: {exc}"
                                       ) from exc
        for line in result.lines:
            click.echo(line)
        if result.secret:
            click.echo("Signing secret (Stripe shows it only now): set STRIPE_WEBHOOK_SECRET to")
            click.echo(result.secret)

    @app.cli.command("stripe-check")
    def stripe_check() -> None:
        """Read Stripe's webhook endpoints back; exit 1 when they miss what the shop needs."""
        try:
            drift = endpoint.check()
        except PaymentError as exc:
            raise click.ClickException(f"Stripe could not be asked: {exc}") from exc
        for problem in drift.problems:
            click.echo(f"problem: {problem}")
        for warning in drift.warnings:
            click.echo(f"warning: {warning}")
        if not drift.ok:
            raise click.exceptions.Exit(1)
        config = current_app.config
        click.echo(f"ok: {endpoint.expected_url(config['PUBLIC_URL'])} gets the "
                   f"{len(endpoint.needed_events())} event types the shop handles, in API "
                   f"version {config['STRIPE_API_VERSION']}")

    @app.cli.command("replay-event")
    @click.argument("event_id")
    def replay_event(event_id: str) -> None:
        """Apply a Stripe event the shop kept without acting on it (ignored, unmatched,
        refused for its API version), or one that never arrived, fetched from Stripe."""
        try:
            outcome = replay(event_id.strip(), HANDLERS)
            db.session.commit()
        except ReplayError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        except MalformedEvent as exc:
            db.session.rollback()
            raise click.ClickException(f"{exc}; nothing changed.") from exc
        except PaymentError as exc:
            db.session.rollback()
            raise click.ClickException(f"Stripe could not be asked, nothing changed: {exc}"
                                       ) from exc
        order = f" (order {outcome.order_number})" if outcome.order_number else ""
        click.echo(f"{event_id}: {outcome.status}: {outcome.detail}{order}")
        if outcome.status in (EventStatus.UNMATCHED, EventStatus.REFUSED):
            raise click.exceptions.Exit(1)
