"""receipts.send: email the donor's receipt, once."""

from __future__ import annotations

from celery import Task, shared_task

from shop.jobs import RECEIPT_SEND
from shop.money import format_money
from shop.notifications.context import amended
from shop.notifications.receipts import receipt_message
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import SideEffectKind
from tasks.side_effects import perform, send_mail


def _send_receipt(effect: SideEffect) -> tuple[str | None, str]:
    order = effect.order
    assert order is not None  # receipts always belong to an order
    message_id = send_mail(receipt_message(order, attempt=effect.attempts + 1))
    if amended(order):
        refunded = format_money(order.refunded_cents, order.currency)
        return message_id, f"Amended receipt (refunded {refunded}) sent to {order.email}"
    return message_id, f"Receipt sent to {order.email}"


@shared_task(name=RECEIPT_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_receipt(self: Task, effect_id: int) -> str:
    return perform(self, effect_id, SideEffectKind.RECEIPT, _send_receipt)
