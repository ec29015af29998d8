"""The `flask --app shop ...` commands of the shop."""

from __future__ import annotations

import click
from flask import Flask, current_app

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
