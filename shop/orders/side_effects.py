"""Side effects of a paid order (or a full unit): asked for in the paying transaction, done once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

from shop import jobs
from shop.donations.models import MonthlyGift
from shop.extensions import db, insert_unless_exists, utcnow
from shop.orders.models import Order, SideEffect
from shop.orders.note_state import NoteReview
from shop.orders.side_effect_state import (
    CANCELLED_BY_REFUND,
    LABELS,
    UNSENT,
    SideEffectKind,
    SideEffectStatus,
    set_status,
)
from shop.orders.state import OrderStatus, record_event
from shop.orders.timeline import EventKind, PlanEventKind, effect_event
from shop.units.models import Unit, UnitPlace
from shop.units.state import PlaceStatus

log = logging.getLogger(__name__)

K = SideEffectKind
E = SideEffectStatus
TASKS = {
    K.RECEIPT: jobs.RECEIPT_SEND,
    K.PACKING_ORDER: jobs.PACKING_ORDER_SUBMIT,
    K.DISPUTE_ALERT: jobs.STAFF_ALERT_SEND,
    K.DEDICATION_NOTICE: jobs.NOTICE_SEND,
    K.PAYMENT_FAILED_NOTICE: jobs.NOTICE_SEND,
    K.UNIT_PACKING_ORDER: jobs.UNIT_PACKING_ORDER_SUBMIT,
    K.BANK_TRANSFER_NOTICE: jobs.NOTICE_SEND,
    K.REFUND_NOTICE: jobs.NOTICE_SEND,
    K.SHIPPED_NOTICE: jobs.NOTICE_SEND,
    K.NOTE_LEFT_OUT_NOTICE: jobs.NOTICE_SEND,
    K.MONTHLY_CANCELLED_NOTICE: jobs.NOTICE_SEND,
    K.REFUND_FAILED_ALERT: jobs.STAFF_ALERT_SEND,
}


def _deadline() -> timedelta:
    return timedelta(seconds=current_app.config["SIDE_EFFECT_DEADLINE"])


NOTE_HOLD_REASON = "a note waits for approval"


def notes_awaiting_approval(order: Order) -> bool:
    """True while staff have not yet read a note that the screen held for review.

    The one gate for anything that prints notes: a packing order is created held, and is
    released only once this is False.
    """
    return any(line.note_review == NoteReview.PENDING for line in order.lines)


def request_after_payment(order: Order) -> list[SideEffect]:
    """The receipt, the packing order when there are packages, the dedication notice.

    Packages the donor sent with a unit travel in the unit's packing order instead. A
    packing order whose notes still wait for staff is created held instead, and is not
    enqueued; approving the notes releases it.
    """
    kinds = [K.RECEIPT] + ([K.PACKING_ORDER] if order.own_package_lines else [])
    if any(line.dedication_email for line in order.lines):
        kinds.append(K.DEDICATION_NOTICE)
    created = []
    for kind in kinds:
        if order.side_effect(kind) is not None:
            continue
        held = kind == K.PACKING_ORDER and notes_awaiting_approval(order)
        effect = SideEffect(kind=kind, status=E.HELD if held else E.PENDING,
                            due_at=utcnow() + _deadline())
        order.side_effects.append(effect)
        created.append(effect)
    if not created:
        return []
    db.session.flush()
    queued = [effect for effect in created if effect.status == E.PENDING]
    for effect in queued:
        jobs.enqueue(db.session(), TASKS[effect.kind], effect.id)
    if queued:
        record_event(
            order,
            EventKind.QUEUED,
            " and ".join(LABELS[e.kind] for e in queued) + " queued",
            actor="system",
        )
    if len(queued) < len(created):
        record_event(order, EventKind.PACKING_ORDER_HELD, f"Packing order held: {NOTE_HOLD_REASON}",
                     actor="system")
    return created


def _insert_once(kind: SideEffectKind, **owner: int) -> SideEffect | None:
    """A pending side effect for its one owner (order_id=, monthly_gift_id=), enqueued;
    None when the owner has one of that kind already.

    Two transactions may ask at once without holding the owner's row (two units of one
    order shipping together): the unique key settles it, not a read before the write.
    """
    statement = (
        insert_unless_exists(SideEffect, next(iter(owner)), "kind")
        .values(kind=kind, status=E.PENDING, due_at=utcnow() + _deadline(), **owner)
        .returning(SideEffect)
    )
    effect: SideEffect | None = db.session.scalars(statement).first()
    if effect is not None:
        jobs.enqueue(db.session(), TASKS[kind], effect.id)
    return effect


def _request(order: Order, kind: SideEffectKind) -> SideEffect | None:
    if order.side_effect(kind) is not None:
        return None
    effect = _insert_once(kind, order_id=order.id)
    # The collection was loaded before the insert: read it again, with the new row.
    db.session.expire(order, ["side_effects"])
    return effect


def request_notice(order: Order, kind: SideEffectKind) -> None:
    """An email to the donor or to a family about this order, once."""
    if _request(order, kind) is not None:
        record_event(order, EventKind.QUEUED, f"{LABELS[kind]} queued", actor="system")


def request_refund_notice(order: Order) -> None:
    """Tell the donor money went back: once per refund. One not sent yet is left to go
    (it reads the refunded total when it is sent); one sent already is asked for again."""
    effect = order.side_effect(K.REFUND_NOTICE)
    if effect is None:
        request_notice(order, K.REFUND_NOTICE)
    elif effect.status != E.PENDING:
        send_again(effect, actor="system", reason="more money went back")


def request_plan_notice(plan: MonthlyGift, kind: SideEffectKind) -> None:
    """An email to the donor about their monthly plan itself, once (its cancellation)."""
    if _insert_once(kind, monthly_gift_id=plan.id) is None:
        return
    plan.record(PlanEventKind.QUEUED, f"{LABELS[kind]} queued", actor="system")


def request_staff_alert(order: Order) -> None:
    """Email the staff about the order (a dispute), once."""
    if _request(order, K.DISPUTE_ALERT) is not None:
        record_event(order, EventKind.QUEUED, "Staff alert queued", actor="system")


def request_refund_failed_alert(order: Order, *, reason: str) -> None:
    """Email the staff that a refund failed after it succeeded; again for a later one."""
    effect = order.side_effect(K.REFUND_FAILED_ALERT)
    if effect is None:
        _request(order, K.REFUND_FAILED_ALERT)
        record_event(order, EventKind.QUEUED, "Staff alert queued: a refund failed", actor="system")
    elif effect.status in (E.DONE, E.CANCELLED):
        send_again(effect, actor="system", reason=reason)


def cancel_unsent(order: Order, *, reason: str) -> None:
    """The money went back: what has not gone out yet never will."""
    for effect in order.side_effects:
        if effect.kind in CANCELLED_BY_REFUND and effect.status in UNSENT:
            set_status(effect, E.CANCELLED, timeline=[order],
                       event=effect_event(effect.kind, "cancelled"),
                       message=f"{LABELS[effect.kind]} cancelled: {reason}")


def hold_unsent(order: Order, *, reason: str) -> None:
    """Keep a packing order that has not gone out until staff or the dispute decide."""
    effect = order.side_effect(K.PACKING_ORDER)
    if effect is not None and effect.status in (E.PENDING, E.FAILED):
        set_status(effect, E.HELD, timeline=[order], event=EventKind.PACKING_ORDER_HELD,
                   message=f"Packing order held: {reason}")


def release_held(order: Order, *, actor: str = "system",
                 reason: str = "released, the hold is over") -> bool:
    """Send a held packing order, unless a note or an open dispute still holds it."""
    effect = order.side_effect(K.PACKING_ORDER)
    if effect is None or effect.status != E.HELD:
        return False
    if notes_awaiting_approval(order) or order.status == OrderStatus.DISPUTED:
        return False
    send_again(effect, actor=actor, reason=reason)
    return True


def request_for_unit(unit: Unit) -> SideEffect:
    """The unit's packing order: created pending, or armed again after it was cancelled.

    Only shop.units.service calls this (through its one request_unit_packing_order), so
    any rule about when a unit may be packed lives there.
    """
    effect: SideEffect | None = db.session.scalar(
        db.select(SideEffect).where(SideEffect.unit_id == unit.id,
                                    SideEffect.kind == K.UNIT_PACKING_ORDER)
    )
    if effect is None:
        effect = SideEffect(unit_id=unit.id, kind=K.UNIT_PACKING_ORDER, status=E.PENDING)
        db.session.add(effect)
    elif effect.status in (E.PENDING, E.DONE):
        return effect
    else:
        # A cancelled one is the same unit refilled: its contents are read when it is sent.
        set_status(effect, E.PENDING)
    effect.attempts = 0
    effect.last_error = None
    effect.due_at = utcnow() + _deadline()
    db.session.flush()
    jobs.enqueue(db.session(), TASKS[K.UNIT_PACKING_ORDER], effect.id)
    return effect


def unit_effect(unit: Unit, *, lock: bool = False) -> SideEffect | None:
    query = db.select(SideEffect).where(SideEffect.unit_id == unit.id,
                                        SideEffect.kind == K.UNIT_PACKING_ORDER)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found: SideEffect | None = db.session.scalar(query)
    return found


def _unit_of(effect: SideEffect) -> Unit:
    unit = db.session.get(Unit, effect.unit_id)
    assert unit is not None
    return unit


def subject(effect: SideEffect) -> str:
    """Whose side effect this is, for logs: the order's number, the unit's or the plan's."""
    if effect.order is not None:
        return effect.order.number or f"order {effect.order_id}"
    if effect.monthly_gift_id is not None:
        return f"monthly gift {effect.monthly_gift_id}"
    return _unit_of(effect).order_number


def describe(effect: SideEffect) -> str:
    if effect.unit_id is not None:
        return f"Unit {_unit_of(effect).number}'s packing order"
    return LABELS[effect.kind]


def timeline_orders(effect: SideEffect) -> list[Order]:
    """Where the effect's timeline entries go: its order, or every order with a package
    funded in its unit. A plan's effect writes on the plan's own timeline (_on_plan)."""
    if effect.order is not None:
        return [effect.order]
    if effect.monthly_gift_id is not None:
        return []
    return list(db.session.scalars(
        db.select(Order).where(Order.id.in_(
            db.select(UnitPlace.order_id).where(UnitPlace.unit_id == effect.unit_id,
                                                UnitPlace.status == PlaceStatus.FUNDED)
        )).order_by(Order.id)
    ))


def _on_plan(effect: SideEffect, kind: PlanEventKind, message: str, *, actor: str) -> None:
    if effect.plan is not None:
        effect.plan.record(kind, message, actor=actor)


def _record(effect: SideEffect, kind: EventKind, message: str, *, actor: str) -> None:
    for order in timeline_orders(effect):
        record_event(order, kind, message, actor=actor)
    _on_plan(effect, PlanEventKind.NOTICE_RETRY, message, actor=actor)


def lock(effect_id: int) -> SideEffect | None:
    """The side effect's row, held until commit: a second worker waits, then sees it done.

    A unit's packing order locks its unit first: refunds that release places lock the
    unit and then this row, and taking both in the same order cannot deadlock.
    """
    unit_id = db.session.scalar(db.select(SideEffect.unit_id).where(SideEffect.id == effect_id))
    if unit_id is not None:
        db.session.execute(
            db.select(Unit.id).where(Unit.id == unit_id).with_for_update(key_share=True)
        )
    found: SideEffect | None = db.session.scalar(
        db.select(SideEffect).where(SideEffect.id == effect_id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return found


def mark_done(effect: SideEffect, reference: str | None, message: str) -> None:
    effect.done_at = utcnow()
    effect.reference = reference
    effect.last_error = None
    effect.attempts += 1
    set_status(effect, E.DONE, timeline=timeline_orders(effect),
               event=effect_event(effect.kind, "done"), message=message, actor="worker",
               data={"reference": reference} if reference else None)
    _on_plan(effect, PlanEventKind.NOTICE_SENT, message, actor="worker")
    for consequence in AFTER_DONE.get(effect.kind, ()):
        consequence(effect)


def note_failure(effect: SideEffect, error: str, *, retry_in: float | None) -> None:
    """A failed attempt: scheduled again after `retry_in` seconds, or failed for good."""
    effect.attempts += 1
    effect.last_error = error[:2000]
    label = describe(effect)
    if retry_in is None:
        message = f"{label} failed after {effect.attempts} attempts: {error[:300]}"
        set_status(effect, E.FAILED, timeline=timeline_orders(effect),
                   event=effect_event(effect.kind, "failed"), message=message, actor="worker")
        _on_plan(effect, PlanEventKind.NOTICE_FAILED, message, actor="worker")
        log.error("%s: %s failed for good: %s", subject(effect), effect.kind, error)
        return
    effect.due_at = utcnow() + timedelta(seconds=retry_in) + _deadline()
    _record(effect, effect_event(effect.kind, "retry"),
            f"{label} attempt {effect.attempts} failed, retrying in {retry_in:.0f}s: "
            f"{error[:300]}", actor="worker")


def due_for_sweep(now: datetime, limit: int = 200) -> list[SideEffect]:
    """Pending side effects past their deadline, claimed so parallel sweeps split them."""
    rows = list(
        db.session.scalars(
            db.select(SideEffect)
            .where(SideEffect.status == E.PENDING, SideEffect.due_at <= now)
            .order_by(SideEffect.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for effect in rows:
        effect.due_at = now + _deadline()
    return rows


def send_again(effect: SideEffect, *, actor: str, reason: str) -> None:
    """Staff ask for it again (resend a receipt, retry a packing order)."""
    effect.due_at = utcnow() + _deadline()
    effect.last_error = None
    set_status(effect, E.PENDING, timeline=timeline_orders(effect),
               event=effect_event(effect.kind, "requested"),
               message=f"{describe(effect)}: {reason}", actor=actor)
    db.session.flush()
    jobs.enqueue(db.session(), TASKS[effect.kind], effect.id)


def _tell_donors_it_shipped(effect: SideEffect) -> None:
    """The partner accepted a packing order: each donor whose packages are in it hears so
    (once per order, whichever of its packing orders goes first)."""
    for order in timeline_orders(effect):
        request_notice(order, K.SHIPPED_NOTICE)


# What a side effect being done sets off, in one place (like the orders' ON_ENTER).
AFTER_DONE: dict[SideEffectKind, tuple[Callable[[SideEffect], None], ...]] = {
    K.PACKING_ORDER: (_tell_donors_it_shipped,),
    K.UNIT_PACKING_ORDER: (_tell_donors_it_shipped,),
}
