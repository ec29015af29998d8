"""Order, OrderLine and OrderEvent: what a donor paid for and everything that happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from shop.donations.models import MonthlyGift
from shop.extensions import Cents, UTCDateTime, db, utcnow
from shop.orders.note_state import PRINTABLE, NoteReview
from shop.orders.side_effect_state import SideEffectKind, SideEffectStatus
from shop.orders.state import OrderStatus
from shop.statuses import StatusType, check_in
from shop.trigram import trigram_index


class Order(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        check_in("status", OrderStatus),
        # The staff list pages newest first by (created_at, id) from a cursor; the
        # dashboard reads ranges of paid_at; staff search contains-matches these three.
        Index("ix_orders_created_at_id", "created_at", "id"),
        # The dashboard's figures read only these columns: on PostgreSQL the index
        # holds them (INCLUDE), so the last 30 days are read from the index alone.
        Index("ix_orders_paid_at", "paid_at", postgresql_include=[
            "id", "kind", "total_cents", "refunded_cents", "monthly_gift_id"]),
        trigram_index("ix_orders_number_trgm", "number"),
        trigram_index("ix_orders_email_trgm", "email"),
        trigram_index("ix_orders_name_trgm", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown to donors and staff; assigned from the id right after the insert.
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The donor's secret link to the order page: never the numeric id.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[OrderStatus] = mapped_column(
        StatusType(OrderStatus, 32), default=OrderStatus.PENDING, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # package | donation | mixed
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[Cents] = mapped_column()
    packages: Mapped[int] = mapped_column(default=0)

    cart_id: Mapped[int | None] = mapped_column(
        ForeignKey("carts.id", ondelete="SET NULL"), index=True
    )
    # What the cart held when the order was made: a double-clicked checkout reuses it.
    cart_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    checkout_attempt: Mapped[int] = mapped_column(default=0)

    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_url: Mapped[str | None] = mapped_column(Text)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), index=True)
    amount_received_cents: Mapped[Cents | None] = mapped_column()
    refunded_cents: Mapped[Cents] = mapped_column(default=0)
    # Why staff must look before anything ships (e.g. Stripe's amount differs from ours).
    review_reason: Mapped[str | None] = mapped_column(Text)
    # Where a won dispute returns the order to.
    status_before_dispute: Mapped[str | None] = mapped_column(String(32))

    # The donor asked that their name never appears publicly or goes to the partner.
    anonymous: Mapped[bool] = mapped_column(default=False)
    # A gift of a monthly plan: one order per paid Stripe invoice.
    monthly_gift_id: Mapped[int | None] = mapped_column(
        ForeignKey("monthly_gifts.id", ondelete="SET NULL"), index=True
    )
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(255), unique=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    monthly_gift: Mapped[MonthlyGift | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.id", cascade="all, delete-orphan"
    )
    side_effects: Mapped[list[SideEffect]] = relationship(
        back_populates="order", order_by="SideEffect.id", cascade="all, delete-orphan"
    )

    def side_effect(self, kind: SideEffectKind) -> SideEffect | None:
        return next((effect for effect in self.side_effects if effect.kind == kind), None)

    def add_event(self, *, kind: str, message: str, actor: str, data: dict[str, Any] | None,
                  from_status: str | None, to_status: str | None) -> OrderEvent:
        """Append a timeline entry; shop.orders.state.record_event is how the shop calls it.

        The entry joins the order's session without loading the whole timeline (a
        backref to a collection not loaded yet is remembered, not read).
        """
        event = OrderEvent(order=self, kind=kind, message=message, actor=actor, data=data,
                           from_status=from_status, to_status=to_status)
        session = object_session(self)
        if session is not None:
            session.add(event)
        return event

    @property
    def dedication_text(self) -> str:
        """"In honor of ..." / "In memory of ..." for every dedicated gift line (LOCALE)."""
        from shop.wording import dedication_words

        texts = []
        for line in self.lines:
            if line.dedication_type and line.dedication_name:
                texts.append(f"{dedication_words(line.dedication_type)} {line.dedication_name}")
        return "; ".join(dict.fromkeys(texts))

    @property
    def public_name(self) -> str:
        """The name we may show anywhere public: none for an anonymous donor."""
        return "Anonymous" if self.anonymous or not self.name else self.name

    @property
    def package_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if line.kind == "package"]

    @property
    def own_package_lines(self) -> list[OrderLine]:
        """Packages packed in the order's own packing order (not sent with a unit)."""
        return [line for line in self.package_lines if not line.join_unit]

    @property
    def unit_package_lines(self) -> list[OrderLine]:
        """Single packages the donor chose to send as part of a unit's ten-pack."""
        return [line for line in self.package_lines if line.join_unit]

    @property
    def donation_lines(self) -> list[OrderLine]:
        return [line for line in self.lines if line.kind == "donation"]


class OrderLine(db.Model):  # type: ignore[name-defined, misc]
    """A snapshot of a cart line at checkout: later catalog changes never alter it."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        check_in("note_review", NoteReview),
        trigram_index("ix_order_lines_dedication_name_trgm", "dedication_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # package | donation
    bundle_slug: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_cents: Mapped[Cents] = mapped_column()
    quantity: Mapped[int] = mapped_column()
    packages: Mapped[int] = mapped_column(default=0)  # per unit
    note: Mapped[str] = mapped_column(Text, default="")
    dedication_type: Mapped[str | None] = mapped_column(String(10))  # honor | memory
    dedication_name: Mapped[str | None] = mapped_column(String(200))
    dedication_email: Mapped[str | None] = mapped_column(String(320))
    # None: the note needed no review. Otherwise pending until staff approve it, or reject
    # it (the package then ships without it; the donor's words stay in `note`).
    note_review: Mapped[NoteReview | None] = mapped_column(StatusType(NoteReview), index=True)
    note_review_reason: Mapped[str | None] = mapped_column(Text)
    # The donor chose to send these packages with others as one unit's ten-pack.
    join_unit: Mapped[bool] = mapped_column(default=False, server_default=false())

    order: Mapped[Order] = relationship(back_populates="lines")

    @property
    def printed_note(self) -> str:
        """What the partner prints: only a note that needed no review or was approved."""
        return self.note if self.note_review in PRINTABLE else ""

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def total_packages(self) -> int:
        return self.packages * self.quantity


class OrderEvent(db.Model):  # type: ignore[name-defined, misc]
    """One entry on the order's timeline: who did what, when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="events")


class SideEffect(db.Model):  # type: ignore[name-defined, misc]
    """Something a paid order must cause outside the shop: the receipt, the packing order.

    Written in the same transaction that marks the order paid, so it cannot be lost;
    the task that performs it locks this row and records when it was done. A unit's
    packing order is the same kind of row, owned by the unit instead of an order, and the
    confirmation of a cancelled monthly plan is owned by the plan.
    """

    __tablename__ = "side_effects"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_side_effects_order_kind"),
        UniqueConstraint("unit_id", "kind", name="uq_side_effects_unit_kind"),
        UniqueConstraint("monthly_gift_id", "kind", name="uq_side_effects_plan_kind"),
        check_in("kind", SideEffectKind),
        check_in("status", SideEffectStatus),
        CheckConstraint(
            "(order_id IS NOT NULL AND unit_id IS NULL AND monthly_gift_id IS NULL) OR "
            "(order_id IS NULL AND unit_id IS NOT NULL AND monthly_gift_id IS NULL) OR "
            "(order_id IS NULL AND unit_id IS NULL AND monthly_gift_id IS NOT NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    # A message about a monthly plan itself (its cancellation), not about one of its gifts.
    monthly_gift_id: Mapped[int | None] = mapped_column(
        ForeignKey("monthly_gifts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[SideEffectKind] = mapped_column(StatusType(SideEffectKind, 40))
    # See shop.orders.side_effect_state for what each status means and how it moves.
    status: Mapped[SideEffectStatus] = mapped_column(
        StatusType(SideEffectStatus), default=SideEffectStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    # When the sweep should re-send it if nothing has happened by then.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The partner's id for a packing order, the Message-ID of a receipt.
    reference: Mapped[str | None] = mapped_column(String(255))
    # An attempt written down before it went out (a receipt's Message-ID) and until when
    # it may still be running: after that, it was interrupted, and the next attempt asks
    # the mail log before sending again (tasks/side_effects.py, perform_recorded).
    attempt_ref: Mapped[str | None] = mapped_column(String(255))
    attempt_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order | None] = relationship(back_populates="side_effects")
    plan: Mapped[MonthlyGift | None] = relationship()
