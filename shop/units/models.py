"""Unit and UnitPlace: a unit's ten-pack, filled one donor's package at a time."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.extensions import UTCDateTime, db, utcnow
from shop.statuses import StatusType, check_in
from shop.units.state import PlaceStatus, UnitStatus

if TYPE_CHECKING:
    from shop.orders.models import Order, OrderLine


class Unit(db.Model):  # type: ignore[name-defined, misc]
    """open -> full (or, at the campaign's end, shipping or held) -> shipped.

    A full or shipping unit whose packing order has not gone out goes back to open
    when a donor's money goes back; a shipped unit keeps its places.
    """

    __tablename__ = "units"
    __table_args__ = (
        check_in("status", UnitStatus),
        CheckConstraint("size >= 1", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    size: Mapped[int] = mapped_column()
    # Its funded places, kept by the place and release rules (`x = x + n` under the unit's
    # lock), so progress is read from the row, never counted on a page view.
    packages_funded: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[UnitStatus] = mapped_column(
        StatusType(UnitStatus), default=UnitStatus.OPEN, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For staff: why a unit is held, or anything else worth knowing about it.
    note: Mapped[str] = mapped_column(Text, default="")

    places: Mapped[list[UnitPlace]] = relationship(
        back_populates="unit", order_by="UnitPlace.id", cascade="all, delete-orphan"
    )

    @property
    def order_number(self) -> str:
        """How the partner knows this unit's packing order (and its idempotency key)."""
        return f"UNIT-{self.number:04d}"

    @property
    def funded_places(self) -> list[UnitPlace]:
        return [place for place in self.places if place.status == PlaceStatus.FUNDED]


class UnitPlace(db.Model):  # type: ignore[name-defined, misc]
    """One package in a unit, paid for by one order's line; released if the money goes back."""

    __tablename__ = "unit_places"
    __table_args__ = (check_in("status", PlaceStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    # A copy of the line's note: it is what gets printed and packed with this package.
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PlaceStatus] = mapped_column(
        StatusType(PlaceStatus), default=PlaceStatus.FUNDED, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(back_populates="places")
    order: Mapped[Order] = relationship()
    line: Mapped[OrderLine] = relationship()
