"""Unit rules: place paid packages in the lowest open unit, release them, close the campaign.

Like every service these change and flush; the caller commits. Locks are always taken
in one order, orders -> units (by number) -> side effects -> campaign totals, so
concurrent payments, refunds, the unit's task and the campaign's close cannot deadlock.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from shop.campaign.service import current_campaign
from shop.extensions import db, utcnow
from shop.orders import side_effects
from shop.orders.fulfilment_state import FulfilmentStatus
from shop.orders.models import Order, OrderLine, SideEffect
from shop.orders.note_state import NoteReview
from shop.orders.side_effect_state import UNSENT, SideEffectStatus
from shop.orders.side_effect_state import set_status as set_effect_status
from shop.orders.state import record_event
from shop.orders.timeline import EventKind
from shop.units.models import Unit, UnitPlace
from shop.units.state import NOT_SHIPPED, PACKING, PlaceStatus, UnitStatus, set_place_status
from shop.units.state import set_status as set_unit_status

log = logging.getLogger(__name__)

# Units a donor can still see on the storefront and in the API after they shipped.
RECENTLY_SHIPPED = timedelta(days=30)
FUNDED = PlaceStatus.FUNDED


def _unit_size() -> int:
    return current_campaign().unit_size


def _packages(count: int) -> str:
    return "Package" if count == 1 else f"{count} packages"


def funded_count(unit: Unit) -> int:
    """Funded places, from the unit's counter (current once the unit's row is locked)."""
    return int(unit.packages_funded or 0)


def _count_places(unit: Unit, change: int) -> None:
    """Places were funded (or released) in the unit, whose row this transaction holds.

    An atomic `SET packages_funded = packages_funded + :change`: the attribute is read
    back from the database when next used. Donors' pages showing it are told after commit.
    """
    unit.packages_funded = Unit.packages_funded + change
    db.session.flush()  # a unit's row changed: the storefront's cache is busted at commit


@dataclass(frozen=True)
class UnitDrift:
    number: int
    counter: int
    places: int


def recount_units() -> list[UnitDrift]:
    """Set every unit's counter to its funded places; returns the units that were wrong.

    A scan of all places: for the daily check and the CLI, never for a page view.
    """
    places = (
        db.select(UnitPlace.unit_id, func.count(UnitPlace.id).label("funded"))
        .where(UnitPlace.status == FUNDED).group_by(UnitPlace.unit_id).subquery()
    )
    wrong = db.session.scalars(
        db.select(Unit.id).outerjoin(places, places.c.unit_id == Unit.id)
        .where(Unit.packages_funded != func.coalesce(places.c.funded, 0))
        .order_by(Unit.number)
    ).all()
    drift = []
    for unit_id in wrong:
        # Counted again under the unit's lock: a payment may have placed packages since.
        unit = _lock_unit(unit_id)
        actual = int(db.session.scalar(
            db.select(func.count(UnitPlace.id)).where(UnitPlace.unit_id == unit_id,
                                                      UnitPlace.status == FUNDED)
        ) or 0)
        if unit.packages_funded != actual:
            drift.append(UnitDrift(unit.number, unit.packages_funded, actual))
            unit.packages_funded = actual
    if drift:
        db.session.flush()
    return drift


def _lock_unit(unit_id: int) -> Unit:
    # FOR NO KEY UPDATE: inserting a place (a foreign key to the unit) does not wait on it.
    unit: Unit | None = db.session.scalar(
        db.select(Unit).where(Unit.id == unit_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    assert unit is not None
    return unit


def _lock_open_unit() -> Unit:
    """The lowest-numbered open unit, locked until commit; a new one when none is open.

    On PostgreSQL two payments reaching here together queue on the unit's row; the second
    sees the first one's places (or that the unit filled) once it holds the lock.
    """
    open_units = (db.select(Unit).where(Unit.status == UnitStatus.OPEN).order_by(Unit.number)
                  .limit(1))
    for _ in range(20):
        unit: Unit | None = db.session.scalar(
            open_units.with_for_update(key_share=True).execution_options(populate_existing=True)
        )
        if unit is not None:
            return unit
        # Nothing open in this statement's snapshot. A unit opened meanwhile shows in a
        # fresh look; only when there is none do we open the next number.
        if db.session.scalar(db.select(Unit.id).where(Unit.status == UnitStatus.OPEN).limit(1)):
            continue
        number = int(db.session.scalar(db.select(func.max(Unit.number))) or 0) + 1
        try:
            with db.session.begin_nested():
                unit = Unit(number=number, size=_unit_size(), status=UnitStatus.OPEN)
                db.session.add(unit)
            log.info("unit %s opened", number)
            return unit
        except IntegrityError:
            continue  # another payment opened this number first; take a place in it
    raise RuntimeError("could not find or open a unit after 20 tries")


def _member_orders(unit: Unit, *, besides: Order | None = None) -> list[Order]:
    orders = db.session.scalars(
        db.select(Order).where(Order.id.in_(
            db.select(UnitPlace.order_id).where(UnitPlace.unit_id == unit.id,
                                                UnitPlace.status == FUNDED)
        )).order_by(Order.id)
    )
    return [order for order in orders if order is not besides]


def _tell_members(unit: Unit, kind: EventKind, message: str, *, actor: str = "system",
                  besides: Order | None = None) -> None:
    for order in _member_orders(unit, besides=besides):
        record_event(order, kind, message, actor=actor, data={"unit": unit.number})


def place_packages(order: Order) -> list[UnitPlace]:
    """Give each paid package of the order's join-a-unit lines a place in a unit.

    Idempotent: only packages without a funded place are placed, so a repeated payment
    report adds nothing and a won dispute puts back what the dispute took out.
    """
    missing: list[OrderLine] = []
    for line in order.unit_package_lines:
        if line.note_review == NoteReview.PENDING:
            continue  # it joins a unit once staff have read its note (notes_review.decide)
        have = int(db.session.scalar(
            db.select(func.count(UnitPlace.id)).where(UnitPlace.order_line_id == line.id,
                                                      UnitPlace.status == FUNDED)
        ) or 0)
        missing.extend([line] * max(0, line.total_packages - have))
    placed: list[UnitPlace] = []
    while missing:
        unit = _lock_open_unit()
        room = unit.size - funded_count(unit)
        if room <= 0:  # pragma: no cover - an open unit always has room
            _fill(unit)
            continue
        batch, missing = missing[:room], missing[room:]
        for line in batch:
            place = UnitPlace(unit=unit, order_id=order.id, order_line_id=line.id,
                              note=line.printed_note, status=FUNDED)
            db.session.add(place)
            placed.append(place)
        db.session.flush()
        _count_places(unit, len(batch))
        funded = funded_count(unit)
        record_event(order, EventKind.UNIT_PLACE,
                     f"{_packages(len(batch))} placed in unit {unit.number} "
                     f"({funded} of {unit.size})",
                     actor="system", data={"unit": unit.number})
        if funded >= unit.size:
            _fill(unit)
    return placed


def _fill(unit: Unit) -> None:
    set_unit_status(unit, UnitStatus.FULL)
    unit.filled_at = utcnow()
    db.session.flush()
    _tell_members(unit, EventKind.UNIT_FULL,
                  f"Unit {unit.number} is full; its packing order is queued")
    request_unit_packing_order(unit)


def request_unit_packing_order(unit: Unit) -> SideEffect:
    """The one place a unit's packing order is asked for (full, shipped at the end, staff).

    Notes awaiting approval never reach a unit: their packages take a place only once
    staff have decided (see place_packages).
    """
    return side_effects.request_for_unit(unit)


def release_places(order: Order, *, reason: str, actor: str = "system") -> int:
    """The order's money went back: its places in units that have not shipped are freed.

    A full unit whose packing order has not gone out opens again and its packing order
    is cancelled until the unit fills again; places in shipped units stay. Returns how
    many places were released.
    """
    unit_ids = sorted(set(db.session.scalars(
        db.select(UnitPlace.unit_id).where(UnitPlace.order_id == order.id,
                                           UnitPlace.status == FUNDED)
    )))
    units = sorted((_lock_unit(unit_id) for unit_id in unit_ids), key=lambda u: u.number)
    released = 0
    for unit in units:
        if unit.status == UnitStatus.SHIPPED:
            continue
        effect = side_effects.unit_effect(unit, lock=True)
        if effect is not None and effect.status == SideEffectStatus.DONE:
            continue  # the partner has it: those packages are on their way
        places = list(db.session.scalars(
            db.select(UnitPlace).where(UnitPlace.unit_id == unit.id,
                                       UnitPlace.order_id == order.id,
                                       UnitPlace.status == FUNDED)
        ))
        for place in places:
            set_place_status(place, PlaceStatus.RELEASED)
            place.released_at = utcnow()
        db.session.flush()
        if places:
            _count_places(unit, -len(places))
        released += len(places)
        left = funded_count(unit)
        record_event(order, EventKind.UNIT_RELEASE,
                     f"{_packages(len(places))} taken out of unit {unit.number} "
                     f"({left} of {unit.size} left): {reason}",
                     actor=actor, data={"unit": unit.number})
        if unit.status == UnitStatus.FULL or (unit.status == UnitStatus.SHIPPING and left == 0):
            _reopen(unit, effect, left)
    return released


def _reopen(unit: Unit, effect: SideEffect | None, left: int) -> None:
    was = unit.status
    set_unit_status(unit, UnitStatus.OPEN)
    unit.filled_at = None
    if effect is not None and effect.status in UNSENT:
        set_effect_status(effect, SideEffectStatus.CANCELLED)
    db.session.flush()
    if was == UnitStatus.FULL:
        _tell_members(unit, EventKind.UNIT_REOPENED,
                      f"Unit {unit.number} is open again ({left} of {unit.size}): a package "
                      "was refunded; its packing order waits until the unit fills")
    log.info("unit %s reopened (%s of %s)", unit.number, left, unit.size)


def mark_shipped(unit: Unit) -> None:
    """The partner accepted the unit's packing order."""
    set_unit_status(unit, UnitStatus.SHIPPED)
    unit.shipped_at = utcnow()
    db.session.flush()


@dataclass(frozen=True)
class CloseReport:
    lines: list[str]
    changed: bool


def close_campaign(*, policy: str, now: datetime, force: bool = False) -> CloseReport:
    """Apply the partial-unit policy to every open unit once the campaign has ended.

    "ship" sends each partly filled unit as it is; "hold" keeps it for staff. Units
    already closed are left alone, so running it again (daily) changes nothing, except
    for a unit opened since by a payment that came in late.
    """
    campaign = current_campaign()
    if not force and not campaign.has_ended(now):
        return CloseReport([f"The campaign {campaign.name} runs until {campaign.end}; "
                            "no unit was closed."], False)
    if policy not in ("ship", "hold"):
        raise ValueError(f"unknown partial-unit policy {policy!r}")
    lines: list[str] = []
    open_ids = list(db.session.scalars(
        db.select(Unit.id).where(Unit.status == UnitStatus.OPEN).order_by(Unit.number)
    ))
    for unit_id in open_ids:
        unit = _lock_unit(unit_id)
        if unit.status != UnitStatus.OPEN:
            continue
        funded = funded_count(unit)
        if funded == 0:
            lines.append(f"Unit {unit.number} is empty; nothing to ship.")
            continue
        if policy == "ship":
            set_unit_status(unit, UnitStatus.SHIPPING)
            db.session.flush()
            _tell_members(unit, EventKind.UNIT_CLOSED,
                          f"The campaign has ended: unit {unit.number} ships as it is with "
                          f"{funded} of {unit.size} packages; its packing order is queued")
            request_unit_packing_order(unit)
            lines.append(f"Unit {unit.number}: shipping as it is with {funded} of "
                         f"{unit.size} packages.")
        else:
            set_unit_status(unit, UnitStatus.HELD)
            unit.note = (f"Held when the campaign ended with {funded} of {unit.size} "
                         "packages (UNIT_PARTIAL_POLICY=hold): staff decide when it ships.")
            db.session.flush()
            _tell_members(unit, EventKind.UNIT_HELD,
                          f"The campaign has ended: unit {unit.number} is held with {funded} "
                          f"of {unit.size} packages until staff ship it")
            lines.append(f"Unit {unit.number}: held with {funded} of {unit.size} packages.")
    if not lines:
        lines.append("No open unit with packages; nothing to do.")
    return CloseReport(lines, any("shipping" in line or "held" in line for line in lines))


def ship_held(unit_number: int, *, actor: str) -> Unit:
    """Staff ship a held unit as it is."""
    unit_id = db.session.scalar(db.select(Unit.id).where(Unit.number == unit_number))
    if unit_id is None:
        raise UnitError(f"There is no unit {unit_number}.")
    unit = _lock_unit(unit_id)
    if unit.status != UnitStatus.HELD:
        raise UnitError(f"Unit {unit.number} is {unit.status}; only a held unit can be "
                        "shipped this way.")
    funded = funded_count(unit)
    if funded == 0:
        raise UnitError(f"Unit {unit.number} has no packages left to ship.")
    set_unit_status(unit, UnitStatus.SHIPPING)
    db.session.flush()
    _tell_members(unit, EventKind.UNIT_CLOSED,
                  f"Unit {unit.number} ships as it is with {funded} of {unit.size} packages "
                  "(released by staff); its packing order is queued", actor=actor)
    request_unit_packing_order(unit)
    return unit


class UnitError(ValueError):
    """A unit action the unit's state does not allow; the message is for staff."""


def retry_packing_order(unit_number: int, *, actor: str) -> SideEffect:
    """Staff send a failed unit packing order to the partner again."""
    unit_id = db.session.scalar(db.select(Unit.id).where(Unit.number == unit_number))
    if unit_id is None:
        raise UnitError(f"There is no unit {unit_number}.")
    unit = _lock_unit(unit_id)
    effect = side_effects.unit_effect(unit, lock=True)
    if effect is None or effect.status not in (SideEffectStatus.FAILED,
                                               SideEffectStatus.PENDING):
        state = "none" if effect is None else effect.status
        raise UnitError(f"Unit {unit.number}'s packing order is {state}; only a failed or "
                        "pending one can be sent again.")
    side_effects.send_again(effect, actor=actor, reason="retried at staff request")
    return effect


@dataclass(frozen=True)
class StaffUnit:
    unit: Unit
    funded: int
    effect: SideEffect | None
    order_numbers: list[str]


def units_for_staff() -> list[StaffUnit]:
    """Every unit, newest first, with its packing order and the orders in it."""
    rows = []
    for unit in db.session.scalars(db.select(Unit).order_by(Unit.number.desc())):
        rows.append(StaffUnit(
            unit=unit,
            funded=funded_count(unit),
            effect=side_effects.unit_effect(unit),
            order_numbers=[order.number or "" for order in _member_orders(unit)],
        ))
    return rows


@dataclass(frozen=True)
class UnitProgress:
    number: int
    packages_funded: int
    packages: int
    status: UnitStatus


def visible_units(now: datetime) -> list[UnitProgress]:
    """Units donors see: every unit not shipped yet, and those shipped recently."""
    rows = db.session.execute(
        db.select(Unit.number, Unit.size, Unit.status, Unit.packages_funded)
        .where(db.or_(Unit.status.in_(NOT_SHIPPED), Unit.shipped_at >= now - RECENTLY_SHIPPED))
        .order_by(Unit.number)
    )
    return [UnitProgress(number=number, packages_funded=int(count), packages=size,
                         status=status) for number, size, status, count in rows]


def storefront_units(now: datetime) -> list[UnitProgress]:
    """The open units, or the next one to open, so a donor always sees where theirs goes."""
    units = visible_units(now)
    open_units = [unit for unit in units if unit.status == UnitStatus.OPEN]
    if open_units:
        return open_units
    last = db.session.scalar(db.select(func.max(Unit.number))) or 0
    return [UnitProgress(number=int(last) + 1, packages_funded=0, packages=_unit_size(),
                         status=UnitStatus.OPEN)]


def places_by_unit(order: Order) -> list[tuple[Unit, int]]:
    """The units holding the order's funded packages, with how many each holds."""
    counts: dict[int, int] = defaultdict(int)
    for unit_id in db.session.scalars(
        db.select(UnitPlace.unit_id).where(UnitPlace.order_id == order.id,
                                           UnitPlace.status == FUNDED)
    ):
        counts[unit_id] += 1
    units = [db.session.get(Unit, unit_id) for unit_id in counts]
    return sorted(((unit, counts[unit.id]) for unit in units if unit is not None),
                  key=lambda pair: pair[0].number)


@dataclass(frozen=True)
class OrderUnit:
    """Where an order's joined packages are: shown to the donor and to staff."""

    number: int
    status: UnitStatus
    packages: int  # this order's packages in the unit
    packages_funded: int
    size: int
    packing_status: SideEffectStatus | None


def order_units(order: Order) -> list[OrderUnit]:
    result = []
    for unit, count in places_by_unit(order):
        effect = side_effects.unit_effect(unit)
        result.append(OrderUnit(number=unit.number, status=unit.status, packages=count,
                                packages_funded=funded_count(unit), size=unit.size,
                                packing_status=effect.status if effect is not None else None))
    return result


def unit_fulfilment_status(units: list[OrderUnit]) -> FulfilmentStatus:
    """The order's fulfilment status when all its packages travel with units."""
    if not units:
        return FulfilmentStatus.NOT_STARTED
    if all(unit.status == UnitStatus.SHIPPED for unit in units):
        return FulfilmentStatus.ACCEPTED
    if any(unit.packing_status == SideEffectStatus.FAILED for unit in units):
        return FulfilmentStatus.FAILED
    if any(unit.packing_status == SideEffectStatus.HELD or unit.status == UnitStatus.HELD
           for unit in units):
        return FulfilmentStatus.HELD
    if any(unit.status in PACKING for unit in units):
        return FulfilmentStatus.PENDING
    return FulfilmentStatus.WAITING_FOR_UNIT
