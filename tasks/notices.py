"""notices.send: a dedication notice to a family, or a failed-payment notice to a donor."""

from __future__ import annotations

from celery import Task, shared_task

from shop.extensions import db
from shop.jobs import NOTICE_SEND
from shop.notifications.notices import dedication_notice_message, payment_failed_message
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import SideEffectKind
from tasks.side_effects import perform, send_mail


def _notify(effect: SideEffect) -> tuple[str | None, str]:
    order = effect.order
    assert order is not None  # notices are about an order
    if effect.kind == SideEffectKind.DEDICATION_NOTICE:
        message = dedication_notice_message(order)
        if message is None:
            return None, "No dedication email; nothing to send"
    else:
        message = payment_failed_message(order)
    message_id = send_mail(message)
    return message_id, f"Notice sent to {message['To']}"


@shared_task(name=NOTICE_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_notice(self: Task, effect_id: int) -> str:
    effect = db.session.get(SideEffect, effect_id)
    notices = (SideEffectKind.DEDICATION_NOTICE, SideEffectKind.PAYMENT_FAILED_NOTICE)
    kind = effect.kind if effect is not None else notices[0]
    if kind not in notices:
        kind = notices[0]  # perform() reports the mismatch and does nothing
    db.session.rollback()
    return perform(self, effect_id, kind, _notify)
