"""The staff's campaign page (admins and managers): name, dates, goals, unit size and the
partial-unit policy, saved in the database; saving recounts the progress."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from shop.campaign import service as campaign
from shop.extensions import db
from shop.money import format_money, format_plain
from shop.staff.auth import current_staff, log_action, manager_required
from shop.staff.forms import CampaignForm


def _form() -> CampaignForm:
    now = campaign.current_campaign()
    return CampaignForm(formdata=None, name=now.name, start=now.start.isoformat(),
                        end=now.end.isoformat(), goal_packages=str(now.goal_packages),
                        goal_money=format_plain(now.goal_cents, now.currency),
                        unit_size=str(now.unit_size), partial_policy=now.partial_policy)


def _page(form: CampaignForm, error: str | None = None, status: int = 200
          ) -> ResponseReturnValue:
    result, _ = campaign.progress()
    return render_template("staff/campaign.html", form=form, error=error, progress=result,
                           saved=campaign.saved_settings()), status


@manager_required
def campaign_page() -> ResponseReturnValue:
    return _page(_form())


@manager_required
def save_campaign() -> ResponseReturnValue:
    form = CampaignForm()
    if not form.validate():
        return _page(form, status=400)
    try:
        changes = campaign.update_campaign(
            name=form.name.data, start=form.start.data, end=form.end.data,
            goal_packages=form.goal_packages.data, goal_money=form.goal_money.data,
            unit_size=form.unit_size.data, partial_policy=form.partial_policy.data,
            actor=current_staff().email,
        )
    except campaign.CampaignError as exc:
        db.session.rollback()
        return _page(form, error=str(exc), status=400)
    result, _ = campaign.progress()
    log_action("campaign.update", target=result.name,
               message="; ".join(changes) or "Saved without changes; progress recounted")
    db.session.commit()
    flash(f"The campaign is saved and its progress recounted: {result.packages_funded} "
          f"packages and {format_money(result.raised_cents, result.currency)} raised.",
          "success")
    return redirect(url_for("staff.campaign_page"), code=303)


def register(bp: Blueprint) -> None:
    """Add the pages of this module to the staff blueprint."""
    bp.add_url_rule("/campaign", view_func=campaign_page, methods=["GET"])
    bp.add_url_rule("/campaign", view_func=save_campaign, methods=["POST"])
