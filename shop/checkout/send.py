"""Send a committed order to Stripe Checkout: the view step the cart and gifts share."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, redirect, url_for
from flask.typing import ResponseReturnValue

from shop.checkout import service
from shop.extensions import db
from shop.orders import service as orders
from shop.orders.models import Order
from shop.payments.client import PaymentError, PaymentInProgress, PaymentRefused

log = logging.getLogger(__name__)


def send_to_checkout(
    order: Order, *, back_path: str, unavailable: Callable[[], ResponseReturnValue],
    refused: Callable[[str], ResponseReturnValue],
) -> ResponseReturnValue:
    """Create the order's Checkout Session and 303 the donor to it (the order is committed).

    When Stripe is away, the attempt is written on the order and `unavailable` answers.
    When Stripe refuses the order as it stands (a retry cannot help), the order is closed
    and `refused` answers with what the donor can change.
    """
    # One Stripe call per order at a time: a simultaneous click waits here for the first
    # one's session instead of asking Stripe with the same key while it is still working.
    order = orders.lock_order(order.id) or order
    if order.stripe_checkout_url:
        db.session.commit()
        return redirect(order.stripe_checkout_url, code=303)
    urls = service.CheckoutUrls(
        public_url=current_app.config["PUBLIC_URL"],
        order_path=url_for("orders.order_page", token=order.token),
        cart_path=back_path,
    )
    try:
        session = service.start_checkout_session(order, urls)
    except PaymentInProgress:
        # The first click's request still runs: same order, same key next time.
        db.session.rollback()
        return unavailable()
    except PaymentRefused as exc:
        log.warning("order %s: Stripe refused the checkout session: %s", order.number, exc)
        service.close_refused(order, exc)
        db.session.commit()
        return refused(service.refusal_message(exc, order))
    except PaymentError as exc:
        log.warning("order %s: checkout session not created: %s", order.number, exc)
        service.note_payment_unavailable(order, exc)
        db.session.commit()
        return unavailable()
    service.attach_session(order, session)
    db.session.commit()
    log.info("order %s: checkout session %s", order.number, session.id)
    if not session.url:
        return unavailable()
    return redirect(session.url, code=303)
