"""The `flask --app shop ...` commands of the shop."""

from __future__ import annotations

import time

import click
from flask import Flask, current_app

from shop import jobs
from shop.catalog.service import seed_winter_campaign
from shop.extensions import db


def register_commands(app: Flask) -> None:
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
