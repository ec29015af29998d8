"""Staff sessions worthy of money-moving rights: rotated at login, ended on the server at
logout, idle expiry, throttled logins with a lockout an admin lifts, NIST passwords, and
the admins' staff page (invite, roles, deactivate)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from shop.extensions import db, utcnow
from shop.staff.models import StaffSession, StaffUser
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    HTML,
    MANAGER,
    PASSWORD,
    create_staff,
    log_in,
    manager,
    staff_client,
)
from tests.servers import SmtpSink, text_of
from tests.support import add_to_cart, csrf_token

ADMIN = "admin@charity.example"


@pytest.fixture
def admin(app: Flask, runner: FlaskCliRunner) -> FlaskClient:
    return staff_client(app, runner, ADMIN, "admin")


def cookie(client: FlaskClient) -> str:
    found = client.get_cookie("session")
    assert found is not None
    return found.value


def test_login_rotates_the_session_and_logout_ends_it_on_the_server(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner,
) -> None:
    create_staff(runner, MANAGER, "manager")
    add_to_cart(client, "single-package")  # a visitor with a session of their own
    before_token = csrf_token(client, "/staff/login")
    before_cookie = cookie(client)
    assert log_in(client, MANAGER).status_code == 303
    assert cookie(client) != before_cookie
    # The visitor's CSRF token is not carried into the staff session.
    stale = client.post("/staff/logout", data={"csrf_token": before_token}, headers=HTML)
    assert stale.status_code == 400
    assert client.get("/staff/dashboard").status_code == 200

    copied = app.test_client()
    copied.set_cookie("session", cookie(client))
    assert copied.get("/staff/dashboard").status_code == 200
    out = client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/orders")})
    assert out.status_code == 303
    refused = copied.get("/staff/dashboard", headers=HTML)
    assert refused.status_code == 302 and refused.location.startswith("/staff/login")
    with app.app_context():
        [row] = db.session.scalars(db.select(StaffSession)).all()
        assert row.ended_reason == "logout"


@pytest.mark.shop_config({"STAFF_SESSION_IDLE_MINUTES": 5})
def test_a_session_idle_too_long_ends(app: Flask, manager: FlaskClient) -> None:  # noqa: F811
    assert manager.get("/staff/dashboard").status_code == 200
    with app.app_context():
        row = db.session.scalars(db.select(StaffSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=6)
        db.session.commit()
    response = manager.get("/staff/dashboard", headers=HTML)
    assert response.status_code == 302 and response.location.startswith("/staff/login")
    page = manager.get(response.location).get_data(as_text=True)
    assert "without activity" in page
    with app.app_context():
        assert db.session.scalars(db.select(StaffSession.ended_reason)).one() == "idle"


def test_failed_logins_lock_the_account_until_an_admin_lifts_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, admin: FlaskClient,
) -> None:
    create_staff(runner, MANAGER, "manager")
    answers = [log_in(client, MANAGER, "wrong password!").status_code for _ in range(5)]
    assert answers == [401, 401, 401, 401, 429]
    right = log_in(client, MANAGER)
    assert right.status_code == 429
    assert "Too many failed logins for this account" in right.get_data(as_text=True)
    # The address is not locked yet: another account still logs in from it.
    assert log_in(app.test_client(), ADMIN).status_code == 303

    page = admin.get("/staff/users").get_data(as_text=True)
    assert f'data-testid="staff-lockout" data-key="{MANAGER}"' in page
    lift = re.search(r'action="(/staff/lockouts/\d+/lift)"', page)
    assert lift
    assert admin.post(lift.group(1), data={"csrf_token": csrf_token(admin, "/staff/users")}
                      ).status_code == 303
    assert log_in(client, MANAGER).status_code == 303
    log = admin.get("/staff/audit").get_data(as_text=True)
    for action in ("login.failed", "login.locked", "user.unlock"):
        assert f'data-action="{action}"' in log, action


@pytest.mark.shop_config({"STAFF_LOGIN_MAX_FAILURES_PER_ADDRESS": 3})
def test_failed_logins_from_one_address_lock_the_address(
    client: FlaskClient, runner: FlaskCliRunner,
) -> None:
    create_staff(runner, MANAGER, "manager")
    answers = [log_in(client, f"guess{i}@charity.example", "nope nope nope").status_code
               for i in range(3)]
    assert answers == [401, 401, 429]
    refused = log_in(client, MANAGER)
    assert refused.status_code == 429
    assert "your network address" in refused.get_data(as_text=True)


@pytest.mark.parametrize(("password", "message"), [
    ("eleven char", "at least 12 characters"),
    ("password1234", "list of common passwords"),
    ("Qwertyuiop123!", "list of common passwords"),
    ("aaaaaaaaaaaaaaa", "repeated or sequential"),
    ("abcdefghijklmnop", "repeated or sequential"),
    ("new.person.2026", "email address's name"),
])
def test_passwords_follow_nist_800_63b(runner: FlaskCliRunner, password: str,
                                       message: str) -> None:
    refused = create_staff(runner, "new.person@charity.example", "viewer", password)
    assert refused.exit_code != 0 and message in refused.output


def test_a_long_passphrase_without_symbols_is_accepted(
    client: FlaskClient, runner: FlaskCliRunner,
) -> None:
    assert create_staff(runner, MANAGER, "manager", "purple tractor under moon").exit_code == 0
    assert log_in(client, MANAGER, "purple tractor under moon").status_code == 303


def test_an_admin_invites_changes_roles_and_deactivates_with_sessions_ending_at_once(
    app: Flask, runner: FlaskCliRunner, admin: FlaskClient, mailbox: SmtpSink,
) -> None:
    token = csrf_token(admin, "/staff/users")
    bad_role = admin.post("/staff/users/invite", data={
        "csrf_token": token, "email": "new@charity.example", "role": "owner"})
    assert bad_role.status_code == 400 and "Not a valid choice" in bad_role.get_data(
        as_text=True)
    invited = admin.post("/staff/users/invite", data={
        "csrf_token": token, "email": "New@Charity.example", "role": "manager"})
    assert invited.status_code == 200
    [email] = mailbox.to("new@charity.example")
    link = re.search(r"http://shop\.test(/staff/invite/\S+)", text_of(email))
    assert link, text_of(email)

    newcomer = app.test_client()
    assert newcomer.get(link.group(1)).status_code == 200
    form_token = csrf_token(newcomer, link.group(1))
    weak = newcomer.post(link.group(1), data={"csrf_token": form_token,
                                              "password": "password1234",
                                              "confirm": "password1234"})
    assert weak.status_code == 400 and "common passwords" in weak.get_data(as_text=True)
    accepted = newcomer.post(link.group(1), data={"csrf_token": form_token,
                                                  "password": "kettle on the ridge",
                                                  "confirm": "kettle on the ridge"})
    assert accepted.status_code == 303 and accepted.location == "/staff/dashboard"
    assert newcomer.get("/staff/dashboard").status_code == 200
    assert newcomer.get(link.group(1)).status_code == 404  # the link works once

    with app.app_context():
        new_id = db.session.scalars(
            db.select(StaffUser.id).where(StaffUser.email == "new@charity.example")).one()
    token = csrf_token(admin, "/staff/users")
    unknown = admin.post(f"/staff/users/{new_id}/role",
                         data={"csrf_token": token, "role": "owner"}, follow_redirects=True)
    assert "There is no such role" in unknown.get_data(as_text=True)
    admin.post(f"/staff/users/{new_id}/role", data={"csrf_token": token, "role": "viewer"})
    with app.app_context():
        assert db.session.get(StaffUser, new_id).role == "viewer"  # type: ignore[union-attr]
    assert newcomer.get("/staff/users").status_code == 403

    done = admin.post(f"/staff/users/{new_id}/deactivate", data={"csrf_token": token},
                      follow_redirects=True)
    assert "1 open session ended at once" in done.get_data(as_text=True)
    refused = newcomer.get("/staff/dashboard", headers=HTML)
    assert refused.status_code == 302 and refused.location.startswith("/staff/login")
    assert log_in(newcomer, "new@charity.example", "kettle on the ridge").status_code == 401

    with app.app_context():
        admin_id = db.session.scalars(
            db.select(StaffUser.id).where(StaffUser.email == ADMIN)).one()
    last = admin.post(f"/staff/users/{admin_id}/role",
                      data={"csrf_token": token, "role": "viewer"}, follow_redirects=True)
    assert "only admin" in last.get_data(as_text=True)
    log = admin.get("/staff/audit").get_data(as_text=True)
    for action in ("user.invite", "user.role", "user.deactivate", "user.password"):
        assert f'data-action="{action}"' in log, action


def test_managers_and_viewers_cannot_manage_staff(
    app: Flask, manager: FlaskClient,  # noqa: F811
) -> None:
    assert manager.get("/staff/users").status_code == 403
    token = csrf_token(manager, "/staff/orders")
    assert manager.post("/staff/users/invite", data={
        "csrf_token": token, "email": "x@charity.example", "role": "admin"}).status_code == 403
    with app.app_context():
        assert db.session.scalars(db.select(StaffUser.email)).all() == [MANAGER]
