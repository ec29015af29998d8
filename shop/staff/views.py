"""The staff pages under /staff: login, the order list and page, actions, the CSV export."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from shop.audit import service as audit
from shop.extensions import db, limiter, utcnow
from shop.money import format_money, format_plain
from shop.orders.models import Order
from shop.orders.service import approve_review
from shop.orders.side_effect_state import LABELS, SideEffectKind
from shop.orders.side_effects import notes_awaiting_approval
from shop.orders.state import REFUNDABLE, label
from shop.orders.timeline import LABELS as EVENT_LABELS
from shop.orders.timeline import EventKind
from shop.payments.client import PaymentError, PaymentOutcomeUnknown
from shop.payments.models import RefundRequest
from shop.payments.refunds import (
    RefundConflict,
    RefundError,
    describe_request,
    parse_refund_amount,
    refund_requests,
    refundable_cents,
    request_refund,
    review_refund,
    send_refund,
    unanswered,
)
from shop.staff import exports, service, sessions
from shop.staff.auth import current_staff, log_action, manager_required, safe_next
from shop.staff.export_state import LABELS as EXPORT_LABELS
from shop.staff.export_state import UNFINISHED as UNFINISHED_EXPORTS
from shop.staff.forms import ActionForm, LoginForm, RefundForm, ShipForm
from shop.staff.models import LoginThrottle as StaffLockout
from shop.units.service import order_units

log = logging.getLogger(__name__)

def event_label(kind: str, to_status: str | None) -> str:
    """Words for a timeline entry: the new status for a status change, else the kind's."""
    if kind == EventKind.STATUS and to_status:
        return label(to_status)
    try:
        return EVENT_LABELS[EventKind(kind)]
    except ValueError:
        # An entry written under a kind since renamed or retired.
        return kind.replace("_", " ").capitalize()


def _bad_request(message: str) -> ResponseReturnValue:
    if not request.accept_mimetypes.accept_html:
        return jsonify(error={"code": "bad_request", "message": message}), 400
    return render_template("error.html", status=400, message=message), 400


# --- login and logout -----------------------------------------------------------------


@limiter.limit("10 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or url_for("staff.dashboard"))
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("staff/login.html", form=form)
    if not form.validate():
        return render_template("staff/login.html", form=form), 400
    email = service.normalize_email(form.email.data or "")[:320]
    address = request.remote_addr
    lockout = sessions.locked(email, address)
    if lockout is not None:
        _audit_refused_login(email, "login.locked", f"Refused: the {lockout.scope} is locked")
        db.session.commit()
        return _locked_out(form, lockout)
    user = service.authenticate(email, form.password.data or "")
    if user is None:
        db.session.rollback()
        caused = sessions.note_failure(email, address)
        _audit_refused_login(email, "login.failed", "Wrong email or password"
                             + (f"; the {caused.scope} is now locked" if caused else ""))
        db.session.commit()
        log.info("staff login refused from %s", address)
        if caused is not None:
            return _locked_out(form, caused)
        return render_template("staff/login.html", form=form,
                               error=service.INCORRECT_LOGIN), 401
    sessions.note_success(email)
    # A new session at login: nothing of the visitor's session (its CSRF token, a cart)
    # is carried into the staff member's.
    session.clear()
    sessions.start(user, address=address, user_agent=request.headers.get("User-Agent", ""))
    login_user(user)
    log_action("login", actor=user, target=user.email)
    db.session.commit()
    log.info("staff %s logged in", user.email)
    return redirect(safe_next(form.next.data) or url_for("staff.dashboard"), code=303)


def _audit_refused_login(email: str, action: str, message: str) -> None:
    """A refused login names the account only when it exists: typed text is not kept."""
    known = service.find_staff(email)
    audit.record(action, actor=known.email if known else "(no such account)",
                 staff_user_id=known.id if known else None, address=request.remote_addr,
                 target=known.email if known else "", message=message)


def _locked_out(form: LoginForm, lockout: StaffLockout) -> ResponseReturnValue:
    until = lockout.locked_until.strftime("%H:%M UTC") if lockout.locked_until else "later"
    what = "this account" if lockout.scope == "account" else "your network address"
    return render_template(
        "staff/login.html", form=form,
        error=(f"Too many failed logins for {what}. Try again after {until}, or ask an "
               "admin to lift the lockout."),
    ), 429


def logout() -> ResponseReturnValue:
    staff = current_staff()
    log_action("logout", target=staff.email)
    if staff.session_token:
        sessions.end(staff.session_token, "logout")
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("staff.login"), code=303)


def index() -> ResponseReturnValue:
    return redirect(url_for("staff.dashboard"))


# --- the order list and the export ----------------------------------------------------


def orders() -> ResponseReturnValue:
    filters, problems = service.parse_filters(request.args)
    if problems:
        return render_template("staff/orders.html", filters=filters, problems=problems,
                               result=None, kinds=service.KINDS,
                               attention_labels=service.ATTENTION), 400
    after, before, cursor_problem = service.parse_cursor(request.args)
    if cursor_problem:
        return render_template("staff/orders.html", filters=filters, problems=[cursor_problem],
                               result=None, kinds=service.KINDS,
                               attention_labels=service.ATTENTION), 400
    result = service.order_page(filters, after=after, before=before)
    return render_template("staff/orders.html", filters=filters, problems=[], result=result,
                           kinds=service.KINDS, attention_labels=service.ATTENTION)


def orders_csv() -> ResponseReturnValue:
    """The list as CSV: streamed at once when small (counted), else built by a task and
    this answers with a redirect to the export's status page."""
    filters, problems = service.parse_filters(request.args)
    if problems:
        return _bad_request(" ".join(problems))
    limit = int(current_app.config["EXPORT_STREAM_MAX_ROWS"])
    count = service.count_orders(filters, cap=limit)
    staff = current_staff()
    if not exports.streams(count):
        export, new = exports.start(filters, by=staff.email, estimated=count.value)
        if new:
            log_action("order.export", target=export.filename,
                       message=f"Asked for an export of about {count.value:,} orders",
                       data=filters.as_args())
        db.session.commit()  # the build is enqueued after this commit
        return redirect(url_for("staff.export_status", token=export.token), code=303)
    # Which filters, not their values: a search can be a donor's email address.
    log.info("staff %s exported orders (filters: %s)", staff.email,
             ", ".join(sorted(filters.as_args())) or "none")
    log_action("order.export", target="orders.csv", message="Exported the order list",
               data=filters.as_args())
    db.session.commit()
    return Response(
        stream_with_context(service.csv_chunks(filters, at_most=limit)),
        mimetype="text/csv",
        headers={"Content-Disposition":
                 f"attachment; filename={filters.filename(utcnow().date())}"},
    )


def export_status(token: str) -> ResponseReturnValue:
    """How far a large export has got; the download link once it is ready."""
    export = exports.find(token)
    if export is None:
        abort(404)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(exports.progress(export))
    return render_template("staff/export.html", export=export,
                           ready=exports.downloadable(export),
                           label=EXPORT_LABELS[export.status],
                           finished=export.status not in UNFINISHED_EXPORTS)


def export_download(token: str) -> ResponseReturnValue:
    export = exports.find(token)
    if export is None:
        abort(404)
    if not exports.downloadable(export):
        message = ("This export is not ready yet." if export.status in UNFINISHED_EXPORTS
                   else "This export is no longer available; ask for it again.")
        return render_template("error.html", status=409, message=message), 409
    log_action("order.export_download", target=export.filename,
               message=f"Downloaded an export of {export.rows_written:,} orders")
    db.session.commit()
    return send_file(exports.file_of(export), mimetype="text/csv", as_attachment=True,
                     download_name=export.filename, max_age=0)


# --- one order and what staff may do with it -----------------------------------------


def timeline(order: Order) -> list[tuple[str, Any]]:
    """The order's events and the staff's audited actions on it, oldest first."""
    entries: list[tuple[str, Any]] = [("event", event) for event in order.events]
    entries += [("audit", entry) for entry in audit.for_order(order.id)]
    return sorted(entries, key=lambda item: (item[1].created_at, item[0] == "event"))


def _render_order(order: Order, ship_form: ShipForm | None = None,
                  refund_form: RefundForm | None = None, refund_error: str | None = None,
                  status: int = 200) -> ResponseReturnValue:
    refusal = service.ship_refusal(order)
    return render_template(
        "staff/order.html",
        order=order,
        status_label=label(order.status),
        receipt=order.side_effect(SideEffectKind.RECEIPT),
        packing=order.side_effect(SideEffectKind.PACKING_ORDER),
        notes_waiting=notes_awaiting_approval(order),
        units=order_units(order),
        effect_labels=LABELS,
        can_ship=refusal is None,
        ship_refusal=refusal,
        ship_form=ship_form or ShipForm(formdata=None),
        refund_form=refund_form or RefundForm(formdata=None),
        refund_error=refund_error,
        refundable_cents=refundable_cents(order) if order.status in REFUNDABLE else 0,
        unanswered_refund=unanswered(order),
        refund_requests=refund_requests(order),
        action_form=ActionForm(formdata=None),
        event_label=event_label,
        timeline=timeline(order),
        audit_label=audit.label,
        describe_refund=describe_request,
    ), status


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


@manager_required
def ship(number: str) -> ResponseReturnValue:
    form = ShipForm()
    order = _locked_order(number)
    if not form.validate():
        db.session.rollback()
        order = service.find_order(number) or order
        return _render_order(order, ship_form=form, status=400)
    try:
        service.mark_shipped(order, form.tracking_note.data, actor=current_staff().email)
    except service.ActionRefused as exc:
        return _refused(order, exc)
    note = (form.tracking_note.data or "").strip()
    log_action("order.ship", target=order.number or "", order_id=order.id,
               message="Marked shipped" + (f". Tracking: {note}" if note else ""))
    db.session.commit()
    flash(f"Order {order.number} is marked shipped.", "success")
    return _back_to(order)


def _send_again(number: str, action: Callable[..., object], message: str,
                audit_action: str) -> ResponseReturnValue:
    """Resend a receipt or retry a packing order: queued, handed over after the commit."""
    order = _locked_order(number)
    try:
        action(order, actor=current_staff().email)
    except service.ActionRefused as exc:
        return _refused(order, exc)
    text = message.format(number=order.number, email=order.email)
    if audit_action == "order.resend_receipt" and order.refunded_cents:
        text = (f"The amended receipt for {order.number} (refunded "
                f"{format_money(order.refunded_cents, order.currency)} of "
                f"{format_money(order.total_cents, order.currency)}) is being sent to "
                f"{order.email}.")
    log_action(audit_action, target=order.number or "", order_id=order.id, message=text)
    back = _back_to(order)
    db.session.commit()
    flash(text, "success")
    return back


@manager_required
def resend_receipt(number: str) -> ResponseReturnValue:
    return _send_again(number, service.resend_receipt,
                       "The receipt for {number} is being sent again to {email}.",
                       "order.resend_receipt")


@manager_required
def retry_packing_order(number: str) -> ResponseReturnValue:
    return _send_again(number, service.retry_packing_order,
                       "The packing order for {number} is being sent to the partner again.",
                       "order.retry_packing_order")


@manager_required
def refund(number: str) -> ResponseReturnValue:
    """The first post shows the review; only `confirm=yes` records the refund and asks
    Stripe for it."""
    form = RefundForm()
    if form.confirm.data != "yes":
        return _review_refund(number, form)
    order = _locked_order(number)
    if not form.validate():
        db.session.rollback()
        return _render_order(service.find_order(number) or order, refund_form=form,
                             status=400)
    try:
        amount = parse_refund_amount(form.amount.data, order.currency)
        request_, new = request_refund(order, amount, form.reason.data or "",
                                       form_token=form.form_token.data or "",
                                       actor=current_staff().email,
                                       seen=form.seen.data or None)
    except RefundConflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back_to(order)
    except RefundError as exc:
        db.session.rollback()
        return _render_order(service.find_order(number) or order, refund_form=form,
                             refund_error=str(exc), status=400)
    if new:
        log_action("order.refund", target=order.number or "", order_id=order.id,
                   message=f"Refund of {format_money(amount, order.currency)} confirmed "
                           f"({form.reason.data})",
                   data={"amount_cents": amount, "refund_request_id": request_.id})
    db.session.commit()  # the request is on record before Stripe hears of it
    return _send_refund(order, request_)


@manager_required
def retry_refund(number: str, request_id: int) -> ResponseReturnValue:
    """Ask Stripe again for a refund it never answered, with the same key: it is made
    at most once, whoever presses the button."""
    form = ActionForm()
    order = _locked_order(number)
    if not form.validate():
        db.session.rollback()
        flash("The form expired; please try again.", "error")
        return _back_to(order)
    request_ = unanswered(order)
    if request_ is None or request_.id != request_id:
        db.session.rollback()
        flash("That refund is no longer waiting for Stripe's answer; see the timeline.",
              "error")
        return _back_to(order)
    log_action("order.refund_retry", target=order.number or "", order_id=order.id,
               message=f"Asked Stripe again for the refund of "
                       f"{format_money(request_.amount_cents, order.currency)} requested by "
                       f"{request_.requested_by}",
               data={"refund_request_id": request_.id})
    db.session.commit()
    return _send_refund(order, request_)


def _review_refund(number: str, form: RefundForm) -> ResponseReturnValue:
    order = service.find_order(number)
    if order is None:
        abort(404)
    if not form.validate():
        return _render_order(order, refund_form=form, status=400)
    try:
        review = review_refund(order, form.amount.data, form.reason.data or "")
    except RefundError as exc:
        return _render_order(order, refund_form=form, refund_error=str(exc), status=400)
    confirm = RefundForm(formdata=None, amount=format_plain(review.amount_cents,
                                                            order.currency),
                         reason=review.reason, confirm="yes", seen=review.marker)
    return render_template("staff/refund_review.html", order=order, review=review,
                           form=confirm, masked_email=service.mask_email(order.email),
                           describe=describe_request)


def _send_refund(order: Order, request_: RefundRequest) -> ResponseReturnValue:
    amount = format_money(request_.amount_cents, order.currency)
    try:
        send_refund(order, request_)
    except PaymentOutcomeUnknown:
        db.session.commit()
        flash(f"Stripe did not answer, so the refund of {amount} may have been made. "
              "Press \"Ask Stripe again\" below: the same request cannot refund twice.",
              "error")
        return _back_to(order)
    except PaymentError:
        db.session.commit()
        flash(f"Stripe could not refund {amount} now; nothing was refunded. "
              "See the timeline and try again.", "error")
        return _back_to(order)
    db.session.commit()
    flash(f"Refund of {amount} sent to Stripe; the order changes when Stripe confirms it.",
          "success")
    return _back_to(order)


@manager_required
def approve(number: str) -> ResponseReturnValue:
    order = _locked_order(number)
    if not approve_review(order, actor=current_staff().email):
        db.session.rollback()
        flash("Only an order under review can be approved.", "error")
        return _back_to(order)
    log_action("order.approve", target=order.number or "", order_id=order.id,
               message="Payment approved after review")
    db.session.commit()
    flash(f"Order {order.number} approved; its receipt and packing order are on their way.",
          "success")
    return _back_to(order)


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", view_func=logout, methods=["POST"])
    bp.add_url_rule("/", view_func=index, methods=["GET"])
    bp.add_url_rule("/orders", view_func=orders, methods=["GET"])
    bp.add_url_rule("/orders.csv", view_func=orders_csv, methods=["GET"])
    bp.add_url_rule("/exports/<token>", view_func=export_status, methods=["GET"])
    bp.add_url_rule("/exports/<token>/download", view_func=export_download, methods=["GET"])
    bp.add_url_rule("/orders/<number>", view_func=order_detail, methods=["GET"])
    bp.add_url_rule("/orders/<number>/ship", view_func=ship, methods=["POST"])
    bp.add_url_rule("/orders/<number>/resend-receipt", view_func=resend_receipt, methods=["POST"])
    bp.add_url_rule("/orders/<number>/retry-packing-order", view_func=retry_packing_order,
                     methods=["POST"])
    bp.add_url_rule("/orders/<number>/refund", view_func=refund, methods=["POST"])
    bp.add_url_rule("/orders/<number>/refund/<int:request_id>/retry", view_func=retry_refund,
                     methods=["POST"])
    bp.add_url_rule("/orders/<number>/approve", view_func=approve, methods=["POST"])
