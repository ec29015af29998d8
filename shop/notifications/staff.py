"""Emails to the charity's own staff about their accounts: the invitation to the back office."""

from __future__ import annotations

from email.message import EmailMessage

from flask import current_app

from shop.notifications.mailer import build_message


def invite_message(*, to: str, role: str, inviter: str, link: str, days: int) -> EmailMessage:
    org = current_app.config["ORG_NAME"]
    text = (
        f"{inviter} invited you to {org}'s back office as {role}.\n\n"
        f"Choose your password here within {days} days (the link works once):\n{link}\n\n"
        "If you did not expect this, ignore this email; nothing happens without the link.\n"
    )
    return build_message(to=to, subject=f"You are invited to {org}'s back office", text=text)
