"""StripeEvent: every webhook event we accepted, by its unique Stripe id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import BIG_INTEGER, Cents, UTCDateTime, db, utcnow
from shop.payments.event_state import STORED, EventStatus
from shop.payments.refund_state import RefundStatus
from shop.statuses import StatusType, check_in


class StripeEvent(db.Model):  # type: ignore[name-defined, misc]
    __tablename__ = "stripe_events"
    __table_args__ = (check_in("status", [s for s in EventStatus if s in STORED]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stripe_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    livemode: Mapped[bool] = mapped_column(default=False)
    stripe_created: Mapped[int | None] = mapped_column(BIG_INTEGER)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[EventStatus] = mapped_column(
        StatusType(EventStatus), default=EventStatus.RECEIVED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class RefundRequest(db.Model):  # type: ignore[name-defined, misc]
    """A refund staff asked Stripe for; the order changes when Stripe confirms it."""

    __tablename__ = "refund_requests"
    __table_args__ = (check_in("status", RefundStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[Cents] = mapped_column()
    reason: Mapped[str] = mapped_column(String(40), default="requested_by_customer")
    status: Mapped[RefundStatus] = mapped_column(
        StatusType(RefundStatus), default=RefundStatus.REQUESTED
    )
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255))
    # One per rendered refund form: a double click finds the first request.
    form_token: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(320))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
