"""receipts.send: email the donor's receipt, once."""

from __future__ import annotations

from email.message import EmailMessage

from celery import Task, shared_task

from shop.jobs import RECEIPT_SEND
from shop.money import format_money
from shop.notifications.context import amended
from shop.notifications.receipts import receipt_message, receipt_message_id
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import SideEffectKind
from tasks.side_effects import perform_recorded


def _plan(effect: SideEffect) -> str:
    assert effect.order is not None  # receipts always belong to an order
    return receipt_message_id(effect.order, effect.attempts + 1)


def _build_receipt(effect: SideEffect, message_id: str) -> tuple[EmailMessage, str]:
    order = effect.order
    assert order is not None
    message = receipt_message(order, attempt=effect.attempts + 1, message_id=message_id)
    if amended(order):
        refunded = format_money(order.refunded_cents, order.currency)
        return message, f"Amended receipt (refunded {refunded}) sent to {order.email}"
    return message, f"Receipt sent to {order.email}"


@shared_task(name=RECEIPT_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_receipt(self: Task, effect_id: int) -> str:
    return perform_recorded(self, effect_id, SideEffectKind.RECEIPT, _plan, _build_receipt)
