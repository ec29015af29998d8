"""Cart and CartLine: what a donor has chosen but not yet paid for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Bundle
from shop.extensions import Cents, UTCDateTime, db, utcnow
from shop.orders.note_state import NoteReview
from shop.statuses import StatusType

LINE_KINDS = ("package", "donation")


class Cart(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The browser holds only this random token (in the signed session cookie).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart", order_by="CartLine.id", cascade="all, delete-orphan"
    )

    @property
    def total_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)

    @property
    def packages(self) -> int:
        return sum(line.total_packages for line in self.lines)


class CartLine(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "cart_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("kind in ('package', 'donation')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    bundle_id: Mapped[int | None] = mapped_column(ForeignKey("bundles.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    # Pending when the screen wants staff to read the note before it is printed.
    note_review: Mapped[NoteReview | None] = mapped_column(StatusType(NoteReview))
    note_review_reason: Mapped[str | None] = mapped_column(Text)
    # Only for donations: the amount the donor chose. Packages take the bundle's price.
    amount_cents: Mapped[Cents | None] = mapped_column()
    # Donations only: the processing fee the donor chose to cover, and a dedication.
    fee_cents: Mapped[Cents] = mapped_column(default=0)
    dedication_type: Mapped[str | None] = mapped_column(String(10))  # honor | memory
    dedication_name: Mapped[str | None] = mapped_column(String(200))
    dedication_email: Mapped[str | None] = mapped_column(String(320))
    anonymous: Mapped[bool] = mapped_column(default=False)
    # A single package the donor wants sent with others as one unit's ten-pack.
    join_unit: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The bundle's price when the donor last saw this line: when staff change the price,
    # the cart shows the new one with a notice before checkout.
    price_seen_cents: Mapped[Cents | None] = mapped_column()

    cart: Mapped[Cart] = relationship(back_populates="lines")
    bundle: Mapped[Bundle | None] = relationship()

    @property
    def name(self) -> str:
        return self.bundle.name if self.bundle is not None else "Donation"

    @property
    def unit_price_cents(self) -> int:
        if self.kind == "donation":
            return (self.amount_cents or 0) + self.fee_cents
        assert self.bundle is not None
        return self.bundle.price_cents

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def packages_per_unit(self) -> int:
        return self.bundle.packages if self.bundle is not None else 0

    @property
    def total_packages(self) -> int:
        return self.packages_per_unit * self.quantity
