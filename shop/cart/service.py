"""Cart rules: find the donor's cart, add, change and remove lines. Prices come from the DB."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import selectinload

from shop.cart.models import Cart, CartLine
from shop.catalog.models import Bundle
from shop.extensions import db
from shop.orders.note_state import NoteReview


class CartError(ValueError):
    """A cart change we refuse; the message is for the donor."""


def find_cart(token: str | None) -> Cart | None:
    """The cart under this token with its lines and their bundles (two queries in all)."""
    if not token:
        return None
    found: Cart | None = db.session.scalar(
        db.select(Cart).where(Cart.token == token)
        .options(selectinload(Cart.lines).joinedload(CartLine.bundle))
    )
    return found


def create_cart(currency: str) -> Cart:
    cart = Cart(token=secrets.token_urlsafe(32), currency=currency)
    db.session.add(cart)
    db.session.flush()
    return cart


_DIGITS = re.compile(r"[0-9]{1,9}")
_NEGATIVE = re.compile(r"-[0-9]+")


def parse_quantity(raw: str | None, max_quantity: int) -> int:
    """A quantity the donor typed: plain ASCII digits, from 1 to the cart's limit.

    None (the field was not sent) means one. Anything else that is not plain digits in
    range raises CartError with the donor's message: signs, spaces inside, decimals,
    exponents, other scripts' digits, an empty box.
    """
    if raw is None:
        return 1
    text = str(raw).strip()
    if not text:
        raise CartError("Please enter a quantity, like 1 or 2.")
    if _NEGATIVE.fullmatch(text):
        raise CartError("The quantity must be at least 1.")
    if not _DIGITS.fullmatch(text):
        if text.isascii() and text.isdigit():  # ten digits or more
            raise CartError(f"You can send up to {max_quantity} of each bundle in one order.")
        raise CartError("Please enter the quantity as a whole number, like 1 or 2.")
    value = int(text)
    if value < 1:
        raise CartError("The quantity must be at least 1.")
    if value > max_quantity:
        raise CartError(f"You can send up to {max_quantity} of each bundle in one order.")
    return value


def add_bundle(cart: Cart, bundle: Bundle, quantity: int, note: str, max_quantity: int,
               *, note_review: NoteReview | None = None,
               note_review_reason: str | None = None, join_unit: bool = False) -> CartLine:
    """Add packages; the same bundle with the same note (and unit choice) grows the line."""
    if bundle.currency != cart.currency:
        raise CartError("That bundle is not sold in this shop's currency.")
    if join_unit and bundle.packages != 1:
        raise CartError("Only single packages can join a unit; a ten-pack already fills one.")
    for line in cart.lines:
        if (line.kind == "package" and line.bundle_id == bundle.id and line.note == note
                and line.join_unit == join_unit):
            if line.quantity + quantity > max_quantity:
                raise CartError(
                    f"You can send up to {max_quantity} of each bundle in one order."
                )
            line.quantity += quantity
            line.price_seen_cents = bundle.price_cents  # the storefront showed this price
            # The latest screen decides: the review lists may have changed since.
            line.note_review, line.note_review_reason = note_review, note_review_reason
            db.session.flush()
            return line
    line = CartLine(kind="package", bundle=bundle, quantity=quantity, note=note,
                    note_review=note_review, note_review_reason=note_review_reason,
                    join_unit=join_unit, price_seen_cents=bundle.price_cents)
    cart.lines.append(line)
    db.session.flush()
    return line


def add_donation(
    cart: Cart, amount_cents: int, *, fee_cents: int = 0, anonymous: bool = False,
    dedication: tuple[str | None, str | None, str | None] = (None, None, None),
) -> CartLine:
    """A gift line: its amount, the fee the donor covers, and who it honours."""
    kind, name, email = dedication
    line = CartLine(kind="donation", quantity=1, amount_cents=amount_cents, note="",
                    fee_cents=fee_cents, anonymous=anonymous, dedication_type=kind,
                    dedication_name=name, dedication_email=email)
    cart.lines.append(line)
    db.session.flush()
    return line


def find_line(cart: Cart, line_id: int) -> CartLine:
    for line in cart.lines:
        if line.id == line_id:
            return line
    raise CartError("That item is no longer in your cart.")


def update_line(line: CartLine, quantity: int, note: str, *,
                note_review: NoteReview | None = None,
                note_review_reason: str | None = None) -> None:
    if line.kind == "donation":
        line.quantity = 1  # a gift's amount is its size; quantity stays one
    else:
        line.quantity = quantity
        line.note = note
        line.note_review, line.note_review_reason = note_review, note_review_reason
    db.session.flush()


def remove_line(cart: Cart, line: CartLine) -> None:
    cart.lines.remove(line)
    db.session.flush()


def fingerprint(cart: Cart, email: str, name: str) -> str:
    """Identify exactly what is being bought, so a repeated checkout can reuse its order."""
    parts = [cart.currency, email.lower(), name]
    for line in cart.lines:
        parts.append(
            f"{line.kind}|{line.bundle.slug if line.bundle else ''}|{line.quantity}|"
            f"{line.unit_price_cents}|{line.fee_cents}|{line.note}|{line.anonymous}|"
            f"{line.dedication_type}|{line.dedication_name}|{line.dedication_email}"
            + ("|unit" if line.join_unit else "")
        )
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def empty_if_unchanged(cart_id: int | None, email: str, name: str, paid_for: str) -> None:
    """Empty the cart once its checkout is paid, unless the donor changed it since.

    `paid_for` is the fingerprint the order was made from.
    """
    if cart_id is None:
        return
    cart = db.session.get(Cart, cart_id)
    if cart is not None and fingerprint(cart, email, name) == paid_for:
        cart.lines.clear()


@dataclass(frozen=True)
class PriceChange:
    """A bundle in the cart whose price staff changed since the donor saw it."""

    name: str
    was_cents: int
    now_cents: int
    currency: str


def price_changes(cart: Cart) -> list[PriceChange]:
    """Lines whose bundle costs something else than when the donor last saw it."""
    return [
        PriceChange(line.bundle.name, line.price_seen_cents, line.bundle.price_cents,
                    cart.currency)
        for line in cart.lines
        if line.kind == "package" and line.bundle is not None
        and line.price_seen_cents is not None
        and line.price_seen_cents != line.bundle.price_cents
    ]


def acknowledge_prices(cart: Cart) -> None:
    """The donor has been shown the current prices (flushed)."""
    for line in cart.lines:
        if line.kind == "package" and line.bundle is not None:
            line.price_seen_cents = line.bundle.price_cents
    db.session.flush()
