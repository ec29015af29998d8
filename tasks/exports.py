"""exports.build: write a large staff CSV export to its file (shop.staff.exports)."""

from __future__ import annotations

from celery import shared_task

from shop import jobs
from shop.staff.exports import build


@shared_task(name=jobs.EXPORT_BUILD, acks_late=True, ignore_result=True)
def build_export(export_id: int) -> bool:
    # Not retried: a failed build is recorded on the export, and staff ask again.
    return build(export_id)
