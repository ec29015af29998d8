"""YearEndStatement: which donors were sent their statement of a year's giving."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shop.extensions import Cents, UTCDateTime, db, utcnow


class YearEndStatement(db.Model):  # type: ignore[name-defined, misc]
    """One statement emailed to one donor for one year (and currency): never sent twice."""

    __tablename__ = "year_end_statements"
    __table_args__ = (UniqueConstraint("email", "year", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lowercased: a donor who typed their address differently still gets one statement.
    email: Mapped[str] = mapped_column(String(320))
    year: Mapped[int] = mapped_column()
    total_cents: Mapped[Cents] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    order_count: Mapped[int] = mapped_column()
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message_id: Mapped[str | None] = mapped_column(String(255))
