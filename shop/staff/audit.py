"""The staff's audit log page (admins): every staff action, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from shop.audit import service as audit
from shop.staff.auth import admin_required
from shop.text import row_id


@admin_required
def audit_log() -> ResponseReturnValue:
    actor = (request.args.get("actor") or "").strip()[:320]
    action = (request.args.get("action") or "").strip()[:60]
    target = (request.args.get("target") or "").strip()[:320]
    # A broken page link (not an id) shows the newest entries.
    before = row_id(request.args.get("before"))
    result = audit.page(actor=actor, action=action, target=target, before=before)
    filters = {k: v for k, v in (("actor", actor), ("action", action), ("target", target)) if v}
    return render_template("staff/audit.html", result=result, filters=filters,
                           label=audit.label, actions=sorted(audit.ACTION_LABELS))


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/audit", view_func=audit_log, methods=["GET"])
