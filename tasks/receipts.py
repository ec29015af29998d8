"""receipts.send: email the donor's receipt, once."""

from __future__ import annotations

from celery import Task, shared_task

from shop.jobs import RECEIPT_SEND
from shop.notifications.mailer import MailError, send
from shop.notifications.receipts import receipt_message
from shop.orders.models import SideEffect
from shop.orders.side_effects import RECEIPT
from tasks.side_effects import PermanentError, TransientError, perform


def _send_receipt(effect: SideEffect) -> tuple[str | None, str]:
    order = effect.order
    try:
        message_id = send(receipt_message(order, attempt=effect.attempts + 1))
    except MailError as exc:
        raise (TransientError if exc.transient else PermanentError)(str(exc)) from exc
    return message_id, f"Receipt sent to {order.email}"


@shared_task(name=RECEIPT_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_receipt(self: Task, effect_id: int) -> str:
    return perform(self, effect_id, RECEIPT, _send_receipt)
