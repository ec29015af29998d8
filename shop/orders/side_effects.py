"""Side effects of a paid order: asked for in the paying transaction, done exactly once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from shop import jobs
from shop.extensions import db, utcnow
from shop.orders.models import Order, SideEffect
from shop.orders.state import record_event

log = logging.getLogger(__name__)

RECEIPT = "receipt"
PACKING_ORDER = "packing_order"
DISPUTE_ALERT = "dispute_alert"
TASKS = {
    RECEIPT: jobs.RECEIPT_SEND,
    PACKING_ORDER: jobs.PACKING_ORDER_SUBMIT,
    DISPUTE_ALERT: jobs.STAFF_ALERT_SEND,
}
LABELS = {RECEIPT: "Receipt", PACKING_ORDER: "Packing order", DISPUTE_ALERT: "Staff alert"}


def _deadline() -> timedelta:
    return timedelta(seconds=current_app.config["SIDE_EFFECT_DEADLINE"])


def request_after_payment(order: Order) -> list[SideEffect]:
    """The receipt, and the packing order when there are packages: pending, then enqueued."""
    kinds = [RECEIPT] + ([PACKING_ORDER] if order.package_lines else [])
    created = []
    for kind in kinds:
        if order.side_effect(kind) is not None:
            continue
        effect = SideEffect(kind=kind, status="pending", due_at=utcnow() + _deadline())
        order.side_effects.append(effect)
        created.append(effect)
    if not created:
        return []
    db.session.flush()
    for effect in created:
        jobs.enqueue(db.session(), TASKS[effect.kind], effect.id)
    record_event(
        order,
        "queued",
        " and ".join(LABELS[e.kind] for e in created) + " queued",
        actor="system",
    )
    return created


def _request(order: Order, kind: str) -> SideEffect | None:
    if order.side_effect(kind) is not None:
        return None
    effect = SideEffect(kind=kind, status="pending", due_at=utcnow() + _deadline())
    order.side_effects.append(effect)
    db.session.flush()
    jobs.enqueue(db.session(), TASKS[kind], effect.id)
    return effect


def request_staff_alert(order: Order) -> None:
    """Email the staff about the order (a dispute), once."""
    if _request(order, DISPUTE_ALERT) is not None:
        record_event(order, "queued", "Staff alert queued", actor="system")


def cancel_unsent(order: Order, *, reason: str) -> None:
    """The money went back: what has not gone out yet never will."""
    for effect in order.side_effects:
        if effect.kind in (RECEIPT, PACKING_ORDER) and effect.status in ("pending", "held",
                                                                          "failed"):
            effect.status = "cancelled"
            record_event(order, f"{effect.kind}_cancelled",
                         f"{LABELS[effect.kind]} cancelled: {reason}", actor="system")


def hold_unsent(order: Order, *, reason: str) -> None:
    """Keep a packing order that has not gone out until staff or the dispute decide."""
    effect = order.side_effect(PACKING_ORDER)
    if effect is not None and effect.status in ("pending", "failed"):
        effect.status = "held"
        record_event(order, "packing_order_held", f"Packing order held: {reason}",
                     actor="system")


def release_held(order: Order) -> None:
    effect = order.side_effect(PACKING_ORDER)
    if effect is not None and effect.status == "held":
        send_again(effect, actor="system", reason="released, the hold is over")


def lock(effect_id: int) -> SideEffect | None:
    """The side effect's row, held until commit: a second worker waits, then sees it done."""
    return db.session.scalar(
        db.select(SideEffect).where(SideEffect.id == effect_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def mark_done(effect: SideEffect, reference: str | None, message: str) -> None:
    effect.status = "done"
    effect.done_at = utcnow()
    effect.reference = reference
    effect.last_error = None
    effect.attempts += 1
    record_event(effect.order, f"{effect.kind}_done", message, actor="worker",
                 data={"reference": reference} if reference else None)


def note_failure(effect: SideEffect, error: str, *, retry_in: float | None) -> None:
    """A failed attempt: scheduled again after `retry_in` seconds, or failed for good."""
    effect.attempts += 1
    effect.last_error = error[:2000]
    label = LABELS[effect.kind]
    if retry_in is None:
        effect.status = "failed"
        record_event(effect.order, f"{effect.kind}_failed",
                     f"{label} failed after {effect.attempts} attempts: {error[:300]}",
                     actor="worker")
        log.error("order %s: %s failed for good: %s", effect.order.number, effect.kind, error)
        return
    effect.due_at = utcnow() + timedelta(seconds=retry_in) + _deadline()
    record_event(effect.order, f"{effect.kind}_retry",
                 f"{label} attempt {effect.attempts} failed, retrying in {retry_in:.0f}s: "
                 f"{error[:300]}", actor="worker")


def due_for_sweep(now: datetime, limit: int = 200) -> list[SideEffect]:
    """Pending side effects past their deadline, claimed so parallel sweeps split them."""
    rows = list(
        db.session.scalars(
            db.select(SideEffect)
            .where(SideEffect.status == "pending", SideEffect.due_at <= now)
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
    effect.status = "pending"
    effect.due_at = utcnow() + _deadline()
    effect.last_error = None
    record_event(effect.order, f"{effect.kind}_requested", f"{LABELS[effect.kind]}: {reason}",
                 actor=actor)
    db.session.flush()
    jobs.enqueue(db.session(), TASKS[effect.kind], effect.id)
