"""The admins' staff page: invite with a role, change roles, deactivate, lift lockouts;
and the invitation link where a new staff member chooses a password."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user

from shop.extensions import db
from shop.notifications import mailer
from shop.notifications.staff import invite_message
from shop.staff import service, sessions
from shop.staff.auth import admin_required, current_staff, log_action
from shop.staff.forms import AcceptInviteForm, ActionForm, InviteForm, RoleForm
from shop.staff.models import ROLES, StaffUser


def _page(invite_form: InviteForm | None = None, status: int = 200,
          invite_link: str | None = None) -> ResponseReturnValue:
    return render_template(
        "staff/users.html", users=service.all_staff(), roles=ROLES,
        invite_form=invite_form or InviteForm(formdata=None),
        action_form=ActionForm(formdata=None), lockouts=sessions.lockouts(),
        open_sessions=sessions.open_sessions, invite_link=invite_link,
    ), status


def _back() -> ResponseReturnValue:
    return redirect(url_for("staff.users"), code=303)


def _user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


@admin_required
def users() -> ResponseReturnValue:
    return _page()


@admin_required
def invite() -> ResponseReturnValue:
    form = InviteForm()
    if not form.validate():
        return _page(form, 400)
    admin = current_staff()
    try:
        user, token = service.invite_staff(form.email.data or "", form.role.data or "",
                                           inviter=admin.email)
    except service.StaffError as exc:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(exc)]
        return _page(form, 400)
    link = f"{current_app.config['PUBLIC_URL']}{url_for('staff.accept_invite', token=token)}"
    log_action("user.invite", target=user.email, message=f"Invited as {user.role}")
    db.session.commit()
    try:
        mailer.send(invite_message(to=user.email, role=user.role, inviter=admin.email,
                                   link=link, days=service.INVITE_DAYS))
    except mailer.MailError:
        flash(f"{user.email} is invited as {user.role}, but the email could not be sent: "
              "give them the link below.", "error")
        return _page(invite_link=link)
    flash(f"{user.email} is invited as {user.role}; the invitation email is on its way.",
          "success")
    return _page(invite_link=link)


@admin_required
def change_role(user_id: int) -> ResponseReturnValue:
    form = RoleForm()
    user = _user(user_id)
    if not form.validate():
        flash("There is no such role: choose viewer, manager or admin.", "error")
        return _back()
    try:
        previous = service.change_role(user, form.role.data or "", by=current_staff())
    except service.StaffError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back()
    if previous != user.role:
        log_action("user.role", target=user.email, message=f"{previous} -> {user.role}")
    db.session.commit()
    flash(f"{user.email} is now {user.role}.", "success")
    return _back()


def _set_active(user_id: int, active: bool) -> ResponseReturnValue:
    form = ActionForm()
    user = _user(user_id)
    if not form.validate():
        flash("The form expired; please try again.", "error")
        return _back()
    try:
        ended = service.set_active(user, active, by=current_staff())
    except service.StaffError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back()
    if active:
        log_action("user.reactivate", target=user.email, message="Reactivated")
        message = f"{user.email} can log in again."
    else:
        log_action("user.deactivate", target=user.email,
                   message=f"Deactivated; {ended} open session{'s' if ended != 1 else ''} "
                           "ended")
        message = (f"{user.email} is deactivated; {ended} open session"
                   f"{'s' if ended != 1 else ''} ended at once.")
    db.session.commit()
    flash(message, "success")
    return _back()


@admin_required
def deactivate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, False)


@admin_required
def reactivate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, True)


@admin_required
def lift_lockout(throttle_id: int) -> ResponseReturnValue:
    form = ActionForm()
    if not form.validate():
        flash("The form expired; please try again.", "error")
        return _back()
    row = sessions.lift(throttle_id)
    if row is None:
        abort(404)
    log_action("user.unlock", target=row.key, message=f"Lifted the lockout of {row.scope} "
                                                      f"{row.key}")
    db.session.commit()
    flash(f"The lockout of {row.key} is lifted.", "success")
    return _back()


def accept_invite(token: str) -> ResponseReturnValue:
    user = service.find_invite(token)
    if user is None:
        return render_template("error.html", status=404,
                               message="This invitation link is not valid any more; ask an "
                                       "admin for a new one."), 404
    form = AcceptInviteForm()
    if request.method == "GET" or not form.validate():
        status = 200 if request.method == "GET" else 400
        return render_template("staff/accept_invite.html", form=form, user=user), status
    try:
        service.accept_invite(user, form.password.data or "")
    except service.StaffError as exc:
        db.session.rollback()
        form.password.errors = [*form.password.errors, str(exc)]
        return render_template("staff/accept_invite.html", form=form, user=user), 400
    session.clear()
    sessions.start(user, address=request.remote_addr,
                   user_agent=request.headers.get("User-Agent", ""))
    login_user(user)
    log_action("user.password", actor=user, target=user.email,
               message="Chose a password from the invitation")
    db.session.commit()
    flash("Welcome! Your password is set.", "success")
    return redirect(url_for("staff.dashboard"), code=303)


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/users", view_func=users, methods=["GET"])
    bp.add_url_rule("/users/invite", view_func=invite, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/role", view_func=change_role, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/deactivate", view_func=deactivate, methods=["POST"])
    bp.add_url_rule("/users/<int:user_id>/reactivate", view_func=reactivate, methods=["POST"])
    bp.add_url_rule("/lockouts/<int:throttle_id>/lift", view_func=lift_lockout, methods=["POST"])
    bp.add_url_rule("/invite/<token>", view_func=accept_invite, methods=["GET", "POST"])
