"""The donation page (once or monthly) and the monthly donor's own page behind a signed link."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from shop.cart.service import add_donation
from shop.cart.session import current_cart
from shop.checkout import abuse
from shop.checkout import service as checkout
from shop.checkout.send import send_to_checkout
from shop.donations.forms import DonationForm
from shop.donations.links import plan_from_signed_link, plan_from_token, plan_token
from shop.donations.models import MonthlyGift
from shop.donations.presenters import donation_form_context
from shop.donations.service import Gift, create_monthly_gift
from shop.donations.state import CANCELLABLE, PlanStatus
from shop.extensions import db, limiter, utcnow
from shop.forms import ShopForm
from shop.money import format_money
from shop.orders.models import Order
from shop.orders.state import MONEY_RECEIVED
from shop.payments import client as payments
from shop.payments import monthly
from shop.security_headers import no_store
from shop.storefront_cache import page_for_newcomers

log = logging.getLogger(__name__)

bp = Blueprint("donations", __name__)


def _render(form: DonationForm, status: int = 200) -> ResponseReturnValue:
    # Without JavaScript the label states a fee only for an amount the donor chose.
    fee = form.fee_for_chosen_amount()
    chosen_fee = format_money(fee, current_app.config["CURRENCY"]) if fee is not None else ""
    return render_template("storefront/donate.html", form=form, chosen_fee=chosen_fee,
                           **donation_form_context()), status


GIFT_CANCELLED = "You left the payment page, so nothing was charged and no gift was made."


@bp.get("/donate")
@page_for_newcomers
def donate_page() -> ResponseReturnValue:
    if request.args.get("checkout") == "cancelled":
        flash(GIFT_CANCELLED, "info")
        return redirect(url_for("donations.donate_page"))
    return _render(DonationForm(formdata=None))


@bp.post("/donate")
@limiter.limit("30 per minute")
def donate() -> ResponseReturnValue:
    form = DonationForm()
    if not form.validate():
        return _render(form, status=422)
    gift = form.gift()
    if gift.monthly:
        return _start_monthly(gift, form)
    if gift.email:
        return _start_one_off(gift, form)
    cart = current_cart(create=True)
    assert cart is not None
    add_donation(cart, gift.amount_cents, fee_cents=gift.fee_cents, anonymous=gift.anonymous,
                 dedication=gift.dedication.as_tuple)
    db.session.commit()
    # Thanks come once the gift is paid; here the donor learns what is left to do.
    flash(f"Your gift of {format_money(gift.total_cents, cart.currency)} is in your cart. "
          "Enter your email below to give it on Stripe's secure page.", "success")
    return redirect(url_for("cart.view_cart"))


def _unavailable(order: Order | None = None) -> ResponseReturnValue:
    return render_template("storefront/payment_unavailable.html", order=order,
                           back_url=url_for("donations.donate_page")), 503


def _limited(form: DonationForm, message: str) -> ResponseReturnValue:
    """A card-testing limit refused a new payment page (shop.checkout.abuse): 429."""
    form.form_errors.append(message)
    return _render(form, status=429)


def _start_one_off(gift: Gift, form: DonationForm) -> ResponseReturnValue:
    order = checkout.reusable_gift_order(gift)
    if order is not None and order.stripe_checkout_url:
        return redirect(order.stripe_checkout_url, code=303)
    try:
        order = checkout.place_gift_order(gift)
    except checkout.CheckoutError as exc:
        db.session.rollback()
        return _refused(str(exc))
    db.session.commit()  # the order exists before Stripe hears of it
    return send_to_checkout(order, back_path=url_for("donations.donate_page", checkout="cancelled"),
                            unavailable=lambda: _unavailable(order), refused=_refused,
                            limited=lambda message: _limited(form, message))


def _refused(message: str) -> ResponseReturnValue:
    """Stripe could never take this gift as it is: the form again, with what to change."""
    form = DonationForm()
    form.form_errors.append(message)
    return _render(form, status=422)


def _start_monthly(gift: Gift, form: DonationForm) -> ResponseReturnValue:
    plan = checkout.reusable_plan(gift)
    if plan is not None and plan.stripe_checkout_url:
        return redirect(plan.stripe_checkout_url, code=303)
    refusal = abuse.allow_new_session(gift.email or "", request.remote_addr)
    if refusal is not None:
        return _limited(form, refusal.message)
    plan = create_monthly_gift(gift)
    db.session.commit()
    public = current_app.config["PUBLIC_URL"]
    manage = url_for("donations.monthly_page", token=plan_token(plan))
    try:
        session = checkout.start_monthly_session(
            plan,
            success_url=f"{public}{manage}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{public}{url_for('donations.donate_page', checkout='cancelled')}",
        )
    except payments.PaymentRequestRejected:
        db.session.delete(plan)
        db.session.commit()
        form = DonationForm(formdata=None)
        form.form_errors.append("Stripe could not set up a monthly gift of this amount; "
                                "please choose another amount.")
        return _render(form, status=422)
    except payments.PaymentError:
        db.session.delete(plan)
        db.session.commit()
        return _unavailable()
    plan.stripe_session_id = session.id
    plan.stripe_checkout_url = session.url
    db.session.commit()
    return redirect(session.url or manage, code=303)


def _plan_or_404(token: str) -> MonthlyGift:
    plan = plan_from_token(token)
    if plan is None:
        abort(404)
    return plan


# How long after the plan was made its page keeps reloading while Stripe confirms it.
PENDING_REFRESH_FOR = timedelta(minutes=30)


def _plan_page_refresh(plan: MonthlyGift) -> int | None:
    """Reload a plan waiting for its first payment, but only while an answer is likely."""
    if plan.status != PlanStatus.PENDING or utcnow() - plan.created_at > PENDING_REFRESH_FOR:
        return None
    return 3


@bp.get("/monthly/<token>")
@no_store
def monthly_page(token: str) -> ResponseReturnValue:
    plan = plan_from_token(token)
    if plan is None:
        # A link in the older signed form leads to the plan's address of today.
        old = plan_from_signed_link(token)
        if old is None:
            abort(404)
        return redirect(url_for("donations.monthly_page", token=plan_token(old)), code=301)
    session_id = request.args.get("session_id", "")
    if plan.status == PlanStatus.PENDING and session_id.startswith("cs_"):
        _confirm_on_return(plan, session_id)
        plan = _plan_or_404(token)
    gifts = db.session.scalars(
        db.select(Order).where(Order.monthly_gift_id == plan.id).order_by(Order.id.desc())
    ).all()
    return render_template(
        "storefront/monthly.html", plan=plan, gifts=gifts, token=token,
        paid_statuses=MONEY_RECEIVED, refresh_seconds=_plan_page_refresh(plan),
    )


def _confirm_on_return(plan: MonthlyGift, session_id: str) -> None:
    """Back from Checkout before Stripe's webhooks: ask Stripe, apply the same rules."""
    try:
        session = payments.retrieve_checkout_session(session_id)
        invoice = (payments.retrieve_invoice(session.invoice_id)
                   if session.invoice_id else None)
    except payments.PaymentError as exc:
        log.info("monthly gift %s: not confirmed on return: %s", plan.id, exc)
        return
    if session.monthly_gift_id != plan.id:
        return
    locked = monthly.lock_plan(plan.id)
    if locked is None:
        return
    monthly.apply_completed_session(session, locked, source="return from Checkout")
    if invoice is not None and invoice.status == "paid":
        monthly.apply_invoice_paid(invoice, locked, source="return from Checkout")
    db.session.commit()


@bp.get("/monthly/<token>/cancel")
@no_store
def confirm_cancel_monthly(token: str) -> ResponseReturnValue:
    """Ask once more before cancelling: "Cancel your $36.00 monthly gift?"."""
    plan = _plan_or_404(token)
    if plan.status not in CANCELLABLE:
        return redirect(url_for("donations.monthly_page", token=token), code=303)
    return render_template("storefront/monthly_cancel.html", plan=plan, token=token,
                           cancel_form=ShopForm(formdata=None))


@bp.post("/monthly/<token>/cancel")
@no_store
@limiter.limit("10 per minute")
def cancel_monthly(token: str) -> ResponseReturnValue:
    form = ShopForm()
    plan = _plan_or_404(token)
    back = redirect(url_for("donations.monthly_page", token=token), code=303)
    if not form.validate():
        flash("Your form expired; please try again.", "error")
        return back
    if plan.status == PlanStatus.CANCELLED:
        flash("This monthly gift is already cancelled.", "success")
        return back
    if request.form.get("confirm") != "yes":
        # Only the confirmation page's button cancels; anything else asks first.
        return redirect(url_for("donations.confirm_cancel_monthly", token=token), code=303)
    if not plan.stripe_subscription_id:
        flash("This monthly gift has not started yet, so there is nothing to cancel.", "error")
        return back
    try:
        payments.cancel_subscription(plan.stripe_subscription_id)
    except payments.PaymentError as exc:
        log.warning("monthly gift %s: cancellation failed: %s", plan.id, exc)
        flash("We could not reach the payment service to cancel; nothing changed. Please try "
              "again in a few minutes.", "error")
        return back
    locked = monthly.lock_plan(plan.id)
    assert locked is not None
    monthly.cancel_by_donor(locked)
    db.session.commit()
    flash("Your monthly gift is cancelled. No further payments will be taken. Thank you for "
          "your support!", "success")
    return back
