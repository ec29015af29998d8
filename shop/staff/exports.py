"""Large CSV exports: asked for on a request, built by a task into a file, downloaded when
ready, so no web worker is held for the minutes a million orders take.

The file is written under EXPORT_DIR (default: the instance folder's exports/), which the
web and worker processes must share; it is named after the export's random token and is
kept KEEP_FOR, after which the next export built removes it.
"""

from __future__ import annotations

import csv
import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from shop import jobs
from shop.extensions import db, utcnow
from shop.staff import service
from shop.staff.export_state import UNFINISHED, ExportStatus, set_status
from shop.staff.models import Export

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(days=1)
# The same export asked for again this soon (a reload, a double click) is the same one.
SAME_EXPORT_WITHIN = timedelta(minutes=10)
TASK_BATCH = 2000


def export_dir() -> Path:
    configured = current_app.config.get("EXPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def file_of(export: Export) -> Path:
    return export_dir() / f"{export.token}.csv"


def streams(count: service.Count) -> bool:
    """Whether an export of `count` orders is small enough to stream in the request."""
    return count.exact and count.value <= int(current_app.config["EXPORT_STREAM_MAX_ROWS"])


def start(filters: service.OrderFilters, *, by: str, estimated: int) -> tuple[Export, bool]:
    """The export of these filters for staff member `by`: one asked for by them in the
    last SAME_EXPORT_WITHIN that has not failed, or a new one whose build is enqueued
    after the caller's commit. True when new. Flushed, not committed."""
    args = filters.as_args()
    recent = db.session.scalars(
        select(Export).where(Export.created_by == by,
                             Export.created_at >= utcnow() - SAME_EXPORT_WITHIN,
                             Export.status != ExportStatus.FAILED)
        .order_by(Export.id.desc())).all()
    for export in recent:
        if export.filters == args and (export.status != ExportStatus.READY
                                       or file_of(export).exists()):
            return export, False
    export = Export(token=secrets.token_urlsafe(24), status=ExportStatus.QUEUED,
                    filters=args, filename=filters.filename(utcnow().date()), created_by=by,
                    rows_estimated=estimated, rows_written=0)
    db.session.add(export)
    db.session.flush()
    jobs.enqueue(db.session(), jobs.EXPORT_BUILD, export.id)
    return export, True


def find(token: str) -> Export | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Export).where(Export.token == token))


def downloadable(export: Export) -> bool:
    return (export.status == ExportStatus.READY and export.finished_at is not None
            and utcnow() - export.finished_at < KEEP_FOR and file_of(export).exists())


def build(export_id: int, batch_size: int = TASK_BATCH) -> bool:
    """Write the export's file, committing its progress after every batch. Idempotent: a
    finished export is left alone, an unfinished one (a worker died) is built afresh.
    False when there was nothing to do. The file appears under its final name only
    when complete."""
    export = db.session.get(Export, export_id)
    if export is None or export.status not in UNFINISHED:
        return False
    if export.status == ExportStatus.QUEUED:
        set_status(export, ExportStatus.RUNNING)
    export.rows_written = 0
    db.session.commit()
    filters, problems = service.parse_filters(export.filters)
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    final = file_of(export)
    partial = final.with_suffix(".part")
    written = 0
    try:
        if problems:
            raise ValueError(" ".join(problems))
        with partial.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(service.CSV_COLUMNS)
            for row in service.csv_rows(filters, batch_size):
                writer.writerow(row)
                written += 1
                if written % batch_size == 0:
                    export.rows_written = written
                    db.session.commit()  # the progress the status page shows
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
    except Exception as exc:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        export = db.session.get(Export, export_id) or export
        set_status(export, ExportStatus.FAILED)
        export.error = f"{type(exc).__name__}: {exc}"[:2000]
        export.finished_at = utcnow()
        db.session.commit()
        log.exception("export %s failed", export_id)
        return True
    export.rows_written = written
    set_status(export, ExportStatus.READY)
    export.finished_at = utcnow()
    db.session.commit()
    remove_expired()
    log.info("export %s ready: %s rows", export_id, written)
    return True


def remove_expired() -> int:
    """Delete the files of exports finished more than KEEP_FOR ago; how many went."""
    removed = 0
    old = db.session.scalars(select(Export).where(
        Export.finished_at < utcnow() - KEEP_FOR)).all()
    for export in old:
        path = file_of(export)
        if path.exists():
            path.unlink()
            removed += 1
    return removed


def progress(export: Export) -> dict[str, object]:
    """The export's state as the status page's JSON shows it."""
    return {"status": str(export.status), "rows_written": export.rows_written,
            "rows_estimated": export.rows_estimated, "filename": export.filename,
            "error": export.error or "", "ready": downloadable(export)}
