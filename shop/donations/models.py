"""MonthlyGift: a donor's monthly plan at Stripe, whose every paid invoice is a gift; and
its timeline."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.donations.state import PlanStatus
from shop.extensions import Cents, UTCDateTime, db, utcnow
from shop.orders.timeline import PlanEventKind
from shop.statuses import StatusType, check_in


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits, like an order's token


class MonthlyGift(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "monthly_gifts"
    __table_args__ = (
        check_in("status", PlanStatus),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    # The gift itself, and what the donor adds to cover the processing fee.
    amount_cents: Mapped[Cents] = mapped_column()
    fee_cents: Mapped[Cents] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    dedication_type: Mapped[str | None] = mapped_column(String(10))
    dedication_name: Mapped[str | None] = mapped_column(String(200))
    dedication_email: Mapped[str | None] = mapped_column(String(320))
    # The donor's link to see and cancel the plan: random, never the email (see links.py).
    manage_token: Mapped[str] = mapped_column(String(64), unique=True, default=_new_token)
    status: Mapped[PlanStatus] = mapped_column(
        StatusType(PlanStatus), default=PlanStatus.PENDING, index=True
    )
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_checkout_url: Mapped[str | None] = mapped_column(String(2000))
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[MonthlyGiftEvent]] = relationship(
        back_populates="plan", order_by="MonthlyGiftEvent.id", cascade="all, delete-orphan"
    )

    @property
    def monthly_cents(self) -> int:
        return self.amount_cents + self.fee_cents

    def record(self, kind: PlanEventKind, message: str, *, actor: str) -> MonthlyGiftEvent:
        """Append an entry to the plan's timeline (flushed with the caller's transaction)."""
        event = MonthlyGiftEvent(kind=kind, message=message, actor=actor)
        self.events.append(event)
        return event


class MonthlyGiftEvent(db.Model):  # type: ignore[name-defined, misc]
    """One entry on a monthly plan's timeline: what Stripe, the donor or staff did, when."""

    __tablename__ = "monthly_gift_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    monthly_gift_id: Mapped[int] = mapped_column(
        ForeignKey("monthly_gifts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[MonthlyGift] = relationship(back_populates="events")
