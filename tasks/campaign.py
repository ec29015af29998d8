"""campaign.close: every day, recount the campaign (reporting any drift it corrects) and close
its open units once it has ended."""

from __future__ import annotations

import logging

from celery import shared_task

from shop import jobs
from shop.campaign.check import check_totals
from shop.campaign.service import current_campaign
from shop.extensions import db, utcnow
from shop.units.service import close_campaign

log = logging.getLogger(__name__)


@shared_task(name=jobs.CAMPAIGN_CLOSE, ignore_result=True)
def close_campaign_when_ended() -> list[str]:
    # Payments keep the totals by their own change; a daily recount catches anything that
    # changed orders behind the shop's back, and changed campaign dates or goals.
    drift = check_totals()
    db.session.commit()
    report = close_campaign(policy=current_campaign().partial_policy, now=utcnow())
    db.session.commit()  # unit packing orders are handed over after this commit
    for line in report.lines:
        log.info("close campaign: %s", line)
    return drift + report.lines
