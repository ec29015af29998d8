"""`flask --app shop create-staff` and `demo-staff`: give someone the staff area."""

from __future__ import annotations

import os
import secrets

import click
from flask import Flask, current_app

from shop.extensions import db
from shop.staff.models import ROLES
from shop.staff.service import StaffError, create_or_update_staff

DEMO_ADMIN_EMAIL = "admin@demo.example.org"


def register_staff_commands(app: Flask) -> None:
    @app.cli.command("create-staff")
    @click.argument("email")
    @click.option("--role", required=True, metavar="|".join(ROLES),
                  help="admin and manager may act on orders; a viewer only looks.")
    def create_staff(email: str, role: str) -> None:
        """Create a staff user, or update an existing one's role and password.

        The password comes from the STAFF_PASSWORD environment variable, or is asked
        for (hidden, twice) when that is not set. At least 12 characters, not a common one
        (NIST SP 800-63B; see shop/staff/passwords.py).
        """
        if role.strip().lower() not in ROLES:
            raise click.ClickException(
                f"Unknown role {role!r}: choose one of {', '.join(ROLES)}."
            )
        password = os.environ.get("STAFF_PASSWORD")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True,
                                    default="", show_default=False)
        try:
            user, created = create_or_update_staff(email, role, password or "")
        except StaffError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        if created:
            click.echo(f"Created staff user {user.email} with role {user.role}.")
        else:
            click.echo(f"Updated staff user {user.email}: role {user.role}, password changed.")

    @app.cli.command("demo-staff")
    @click.option("--email", default=DEMO_ADMIN_EMAIL, show_default=True)
    def demo_staff(email: str) -> None:
        """For `make run`: the demo's admin, with a new random password printed once.

        Run again, the same admin gets a new password (the old one stops working), so a
        restart never makes a second admin and never needs a password kept in a file.
        Refused with APP_ENV=production.
        """
        if current_app.config.get("APP_ENV") == "production":
            raise click.ClickException("demo-staff is for local runs; in production use "
                                       "create-staff with a password you chose.")
        password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        try:
            user, _ = create_or_update_staff(email, "admin", password)
        except StaffError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"Staff login: {user.email} / {password}")
