"""notices.send: an email to a donor or a family about an order or a monthly plan.

A dedication notice, a failed monthly payment, and the messages a donor gets about
what happens next (shop.notifications.donor_messages), each sent once.
"""

from __future__ import annotations

from email.message import EmailMessage

from celery import Task, shared_task

from shop.donations.state import RUNNING
from shop.extensions import db
from shop.jobs import NOTICE_SEND
from shop.notifications.donor_messages import donor_message
from shop.notifications.notices import dedication_notice_message, payment_failed_message
from shop.orders.models import SideEffect
from shop.orders.side_effect_state import LABELS, NOTICES, SideEffectKind
from tasks.side_effects import perform, send_mail


def _message(effect: SideEffect) -> tuple[EmailMessage | None, str]:
    """The email, or None and why nothing is sent."""
    if effect.kind == SideEffectKind.DEDICATION_NOTICE:
        assert effect.order is not None
        return dedication_notice_message(effect.order), "No dedication email; nothing to send"
    if effect.kind == SideEffectKind.PAYMENT_FAILED_NOTICE:
        order = effect.order
        assert order is not None
        if order.monthly_gift is not None and order.monthly_gift.status not in RUNNING:
            # The plan ended before this went out: it asks for no more money.
            return None, "The monthly gift has ended; no failed payment notice sent"
        return payment_failed_message(order), ""
    return donor_message(effect), "Nothing to tell the donor any more; nothing sent"


def _notify(effect: SideEffect) -> tuple[str | None, str]:
    message, why_not = _message(effect)
    if message is None:
        return None, why_not
    message_id = send_mail(message)
    return message_id, f"{LABELS[effect.kind]} sent to {message['To']}"


@shared_task(name=NOTICE_SEND, bind=True, acks_late=True, ignore_result=True,
             max_retries=None)
def send_notice(self: Task, effect_id: int) -> str:
    effect = db.session.get(SideEffect, effect_id)
    kind = effect.kind if effect is not None else SideEffectKind.DEDICATION_NOTICE
    if kind not in NOTICES:
        kind = SideEffectKind.DEDICATION_NOTICE  # perform() reports the mismatch, does nothing
    db.session.rollback()
    return perform(self, effect_id, kind, _notify)
