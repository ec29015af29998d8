"""The printable packing slip sent to the packing partner when it has no API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from flask import current_app, render_template

from shop.notifications.mailer import build_message
from shop.orders.models import Order
from shop.units.models import Unit


@dataclass(frozen=True)
class _SlipHeader:
    number: str
    created_at: datetime


@dataclass(frozen=True)
class _SlipLine:
    name: str
    bundle_slug: str | None
    note: str
    quantity: int = 1
    total_packages: int = 1

    @property
    def printed_note(self) -> str:
        # A place keeps only what may be printed (see shop.units.service.place_packages).
        return self.note


def packing_slip_message(order: Order, to: str) -> EmailMessage:
    lines = order.own_package_lines
    return _slip(order, lines, sum(line.total_packages for line in lines), to)


def unit_packing_slip_message(unit: Unit, to: str) -> EmailMessage:
    """A unit's slip: one line per package, so each donor's note is printed for its box."""
    lines = [_SlipLine(name=place.line.name, bundle_slug=place.line.bundle_slug,
                       note=place.note) for place in unit.funded_places]
    header = _SlipHeader(number=unit.order_number,
                         created_at=unit.filled_at or unit.created_at)
    return _slip(header, lines, len(lines), to)


def _slip(order: Any, lines: list[Any], packages: int, to: str) -> EmailMessage:
    context = {
        "order": order,
        "org_name": current_app.config["ORG_NAME"],
        "lines": lines,
        "packages": packages,
    }
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    return build_message(
        to=to,
        subject=f"Packing order {order.number}: {packages} care packages",
        text=render_template("email/packing_slip.txt", **context),
        html=render_template("email/packing_slip.html", **context),
        message_id=f"<packing-{order.number}@{domain}>",
    )
