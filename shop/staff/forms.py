"""The staff forms: log in, mark shipped, and the CSRF-only buttons."""

from __future__ import annotations

import secrets

from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from shop.forms import ShopForm
from shop.staff.service import MAX_TRACKING_NOTE


class LoginForm(ShopForm):
    email = StringField("Email", validators=[DataRequired(message="Please enter your email.")])
    password = PasswordField(
        "Password", validators=[DataRequired(message="Please enter your password.")]
    )
    next = HiddenField()


class ShipForm(ShopForm):
    tracking_note = TextAreaField(
        "Tracking note (optional)",
        validators=[
            Optional(),
            Length(max=MAX_TRACKING_NOTE,
                   message=f"Please keep the tracking note under {MAX_TRACKING_NOTE} "
                           "characters."),
        ],
    )


class ActionForm(ShopForm):
    """A button that changes something: only the CSRF token travels."""


class RefundForm(ShopForm):
    """Both steps of a refund: the review (no `confirm`) and the confirmation."""

    amount = StringField("Amount to refund",
                         validators=[DataRequired(message="Please enter the amount to refund, "
                                                          "e.g. 80.08.")])
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("requested_by_customer", "Requested by the donor"),
                 SelectChoice("duplicate", "Duplicate payment"),
                 SelectChoice("fraudulent", "Fraudulent")],
        default="requested_by_customer",
    )
    # A fresh token per rendered form: a double-clicked refund is asked for once.
    form_token = HiddenField(default=lambda: secrets.token_urlsafe(24))
    # "yes" only on the review page's button: without it nothing is refunded.
    confirm = HiddenField()
    # The refunds the review saw (shop.payments.refunds.marker).
    seen = HiddenField()


ROLE_CHOICES = [SelectChoice("viewer", "Viewer: looks only"),
                SelectChoice("manager", "Manager: ships, refunds, edits the catalog"),
                SelectChoice("admin", "Admin: everything, and the staff accounts")]


class InviteForm(ShopForm):
    email = StringField("Email", validators=[DataRequired(message="Please enter an email."),
                                             Length(max=320)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="viewer")


class RoleForm(ShopForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class AcceptInviteForm(ShopForm):
    password = PasswordField("Password (at least 12 characters)",
                             validators=[DataRequired(message="Please choose a password.")])
    confirm = PasswordField("The same password again",
                            validators=[EqualTo("password",
                                                message="The two passwords differ.")])


class CampaignForm(ShopForm):
    """The campaign's settings; shop.campaign.service.update_campaign checks the values."""

    name = StringField("Name", validators=[DataRequired(message="Please name the campaign."),
                                           Length(max=200)])
    start = StringField("First day (UTC)")
    end = StringField("Last day (UTC, included)")
    goal_packages = StringField("Goal in packages")
    goal_money = StringField("Goal in money")
    unit_size = StringField("Packages in one unit")
    partial_policy = SelectField(
        "When the campaign ends, a partly filled unit",
        choices=[SelectChoice("ship", "ships as it is"),
                 SelectChoice("hold", "is held until staff ship it")],
    )
