"""`flask --app shop create-staff EMAIL --role ROLE`: give someone the staff area."""

from __future__ import annotations

import os

import click
from flask import Flask

from shop.extensions import db
from shop.staff.models import ROLES
from shop.staff.service import StaffError, create_or_update_staff


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
