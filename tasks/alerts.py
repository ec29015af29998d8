"""alerts.send: email the staff about an order that needs a person, once."""

from __future__ import annotations

from celery import Task, shared_task
from flask import current_app

from shop.extensions import db
from shop.jobs import STAFF_ALERT_SEND
from shop.notifications.alerts import dispute_alert_message, refund_failed_message
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import SideEffectKind
from tasks.side_effects import perform, send_mail


def _alert(effect: SideEffect) -> tuple[str | None, str]:
    to = current_app.config.get("STAFF_ALERT_EMAIL") or "staff@localhost"
    assert effect.order is not None  # alerts are about an order
    build = (refund_failed_message if effect.kind == SideEffectKind.REFUND_FAILED_ALERT
             else dispute_alert_message)
    message_id = send_mail(build(effect.order, to))
    return message_id, f"Staff alerted at {to}"


@shared_task(name=STAFF_ALERT_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_staff_alert(self: Task, effect_id: int) -> str:
    effect = db.session.get(SideEffect, effect_id)
    alerts = (SideEffectKind.DISPUTE_ALERT, SideEffectKind.REFUND_FAILED_ALERT)
    kind = effect.kind if effect is not None and effect.kind in alerts else alerts[0]
    db.session.rollback()
    return perform(self, effect_id, kind, _alert)
