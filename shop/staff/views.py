"""The staff pages under /staff: login, the order list and page, actions, the CSV export."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from shop.extensions import db, limiter, login_manager
from shop.money import InvalidAmount, format_money, parse_amount
from shop.orders import notes_review
from shop.orders.models import Order
from shop.orders.service import approve_review
from shop.orders.side_effect_state import LABELS, SideEffectKind
from shop.orders.side_effects import notes_awaiting_approval
from shop.orders.state import REFUNDABLE, STATUS_LABELS, OrderStatus, can_move, label
from shop.payments.client import PaymentError, PaymentOutcomeUnknown
from shop.payments.refunds import (
    RefundError,
    refundable_cents,
    request_refund,
    send_refund,
)
from shop.staff import service
from shop.staff.auth import current_staff, manager_required, safe_next
from shop.staff.forms import ActionForm, LoginForm, RefundForm, ShipForm
from shop.units.service import order_units

log = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, url_prefix="/staff")

PUBLIC_ENDPOINTS = frozenset({"staff.login"})

# Timeline wording for the kinds of OrderEvent other parts of the shop write.
EVENT_LABELS = {
    "created": "Order placed",
    "status": "Status changed",
    "refused": "Change refused",
    "ignored": "Ignored",
    "queued": "Queued",
    "receipt_done": "Receipt sent",
    "receipt_retry": "Receipt retry",
    "receipt_failed": "Receipt failed",
    "receipt_requested": "Receipt requested again",
    "packing_order_done": "Packing order accepted",
    "packing_order_retry": "Packing order retry",
    "packing_order_failed": "Packing order failed",
    "packing_order_requested": "Packing order requested again",
    "packing_order_held": "Packing order held",
    "note_approved": "Note approved",
    "note_rejected": "Note rejected",
    "unit_place": "Placed in a unit",
    "unit_full": "Unit full",
    "unit_release": "Taken out of a unit",
    "unit_reopened": "Unit open again",
    "unit_closed": "Unit ships as it is",
    "unit_held": "Unit held",
    "unit_packing_order_done": "Unit packing order accepted",
    "unit_packing_order_retry": "Unit packing order retry",
    "unit_packing_order_failed": "Unit packing order failed",
    "unit_packing_order_requested": "Unit packing order requested again",
}


def event_label(kind: str, to_status: str | None) -> str:
    if kind == "status" and to_status:
        return label(to_status)
    return EVENT_LABELS.get(kind, kind.replace("_", " ").capitalize())


@bp.before_request
def require_login() -> ResponseReturnValue | None:
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@bp.after_request
def never_cache(response: Response) -> Response:
    # Order data and donors' emails must not stay in a shared browser's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def staff_helpers() -> dict[str, Any]:
    # A function, so only pages that show the count (the nav) run the query.
    return {"status_labels": STATUS_LABELS, "notes_to_review": notes_review.pending_count}


def _bad_request(message: str) -> ResponseReturnValue:
    if not request.accept_mimetypes.accept_html:
        return jsonify(error={"code": "bad_request", "message": message}), 400
    return render_template("error.html", status=400, message=message), 400


# --- login and logout -----------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or url_for("staff.orders"))
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("staff/login.html", form=form)
    if not form.validate():
        return render_template("staff/login.html", form=form), 400
    user = service.authenticate(form.email.data or "", form.password.data or "")
    if user is None:
        db.session.rollback()
        log.info("staff login refused for %r from %s", (form.email.data or "")[:320],
                 request.remote_addr)
        return render_template("staff/login.html", form=form,
                               error=service.INCORRECT_LOGIN), 401
    login_user(user)
    db.session.commit()
    log.info("staff %s logged in", user.email)
    return redirect(safe_next(form.next.data) or url_for("staff.orders"), code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    flash("You are logged out.", "success")
    return redirect(url_for("staff.login"), code=303)


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("staff.orders"))


# --- the order list and the export ----------------------------------------------------


@bp.get("/orders")
def orders() -> ResponseReturnValue:
    filters, problems = service.parse_filters(request.args)
    if problems:
        return render_template("staff/orders.html", filters=filters, problems=problems,
                               result=None, kinds=service.KINDS), 400
    page = request.args.get("page", 1, type=int) or 1
    result = service.order_page(filters, page)
    return render_template("staff/orders.html", filters=filters, problems=[], result=result,
                           kinds=service.KINDS)


@bp.get("/orders.csv")
def orders_csv() -> ResponseReturnValue:
    filters, problems = service.parse_filters(request.args)
    if problems:
        return _bad_request(" ".join(problems))
    log.info("staff %s exported orders %s", current_staff().email, filters.as_args())
    return Response(
        stream_with_context(service.csv_chunks(filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=orders.csv"},
    )


# --- one order and what staff may do with it -----------------------------------------


def _render_order(order: Order, ship_form: ShipForm | None = None,
                  refund_form: RefundForm | None = None,
                  status: int = 200) -> ResponseReturnValue:
    return render_template(
        "staff/order.html",
        order=order,
        status_label=label(order.status),
        receipt=order.side_effect(SideEffectKind.RECEIPT),
        packing=order.side_effect(SideEffectKind.PACKING_ORDER),
        notes_waiting=notes_awaiting_approval(order),
        units=order_units(order),
        effect_labels=LABELS,
        can_ship=can_move(order.status, OrderStatus.FULFILLED),
        ship_form=ship_form or ShipForm(formdata=None),
        refund_form=refund_form or RefundForm(formdata=None),
        refundable_cents=refundable_cents(order) if order.status in REFUNDABLE else 0,
        action_form=ActionForm(formdata=None),
        event_label=event_label,
    ), status


@bp.get("/orders/<number>")
def order_detail(number: str) -> ResponseReturnValue:
    order = service.find_order(number)
    if order is None:
        abort(404)
    return _render_order(order)


def _back_to(order: Order) -> ResponseReturnValue:
    return redirect(url_for("staff.order_detail", number=order.number), code=303)


def _refused(order: Order, error: service.ActionRefused) -> ResponseReturnValue:
    db.session.rollback()
    flash(str(error), "error")
    return _back_to(order)


def _locked_order(number: str) -> Order:
    order = service.lock_order_by_number(number)
    if order is None:
        abort(404)
    return order


@bp.post("/orders/<number>/ship")
@manager_required
def ship(number: str) -> ResponseReturnValue:
    form = ShipForm()
    order = _locked_order(number)
    if not form.validate():
        db.session.rollback()
        order = service.find_order(number) or order
        return _render_order(order, ship_form=form, status=400)
    staff = current_staff()
    try:
        service.mark_shipped(order, form.tracking_note.data, actor=staff.email)
    except service.ActionRefused as exc:
        return _refused(order, exc)
    db.session.commit()
    flash(f"Order {order.number} is marked shipped.", "success")
    return _back_to(order)


def _send_again(number: str, action: Callable[..., object], message: str) -> ResponseReturnValue:
    """Resend a receipt or retry a packing order: queued, handed over after the commit."""
    order = _locked_order(number)
    try:
        action(order, actor=current_staff().email)
    except service.ActionRefused as exc:
        return _refused(order, exc)
    text = message.format(number=order.number, email=order.email)
    back = _back_to(order)
    db.session.commit()
    flash(text, "success")
    return back


@bp.post("/orders/<number>/resend-receipt")
@manager_required
def resend_receipt(number: str) -> ResponseReturnValue:
    return _send_again(number, service.resend_receipt,
                       "The receipt for {number} is being sent again to {email}.")


@bp.post("/orders/<number>/retry-packing-order")
@manager_required
def retry_packing_order(number: str) -> ResponseReturnValue:
    return _send_again(number, service.retry_packing_order,
                       "The packing order for {number} is being sent to the partner again.")


@bp.post("/orders/<number>/refund")
@manager_required
def refund(number: str) -> ResponseReturnValue:
    form = RefundForm()
    order = _locked_order(number)
    if not form.validate():
        db.session.rollback()
        return _render_order(service.find_order(number) or order, refund_form=form, status=400)
    try:
        amount = (parse_amount(form.amount.data, order.currency)
                  if (form.amount.data or "").strip() else None)
        request_ = request_refund(order, amount, form.reason.data,
                                  form_token=form.form_token.data or "",
                                  actor=current_staff().email)
    except (InvalidAmount, RefundError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back_to(order)
    db.session.commit()  # the request is on record before Stripe hears of it
    try:
        send_refund(order, request_)
    except PaymentOutcomeUnknown:
        db.session.commit()
        flash(f"Stripe did not answer, so the refund of "
              f"{format_money(request_.amount_cents, order.currency)} may have been made. "
              "Press Refund again to ask once more: the same request cannot refund twice.",
              "error")
        return _back_to(order)
    except PaymentError:
        db.session.commit()
        flash("Stripe could not refund this payment now; nothing was refunded. "
              "See the timeline and try again.", "error")
        return _back_to(order)
    db.session.commit()
    flash(f"Refund of {format_money(request_.amount_cents, order.currency)} sent to Stripe; "
          "the order changes when Stripe confirms it.", "success")
    return _back_to(order)


@bp.post("/orders/<number>/approve")
@manager_required
def approve(number: str) -> ResponseReturnValue:
    order = _locked_order(number)
    if not approve_review(order, actor=current_staff().email):
        db.session.rollback()
        flash("Only an order under review can be approved.", "error")
        return _back_to(order)
    db.session.commit()
    flash(f"Order {order.number} approved; its receipt and packing order are on their way.",
          "success")
    return _back_to(order)
