"""Staff exports' statuses: the enum, the table of legal moves, the one setter."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import TYPE_CHECKING

from shop.statuses import check_move

if TYPE_CHECKING:
    from shop.staff.models import Export

log = logging.getLogger(__name__)


class ExportStatus(StrEnum):
    QUEUED = "queued"  # asked for; waits for a worker
    RUNNING = "running"  # a worker is writing the file
    READY = "ready"  # the file is complete and may be downloaded
    FAILED = "failed"  # the build stopped; its error is kept


X = ExportStatus

TRANSITIONS: dict[ExportStatus, frozenset[ExportStatus]] = {
    X.QUEUED: frozenset({X.RUNNING, X.FAILED}),
    X.RUNNING: frozenset({X.READY, X.FAILED}),
    X.READY: frozenset(),
    X.FAILED: frozenset(),
}

# Still to be built: a task that finds its export here (again) builds it from the start.
UNFINISHED = frozenset({X.QUEUED, X.RUNNING})

LABELS = {
    X.QUEUED: "Waiting for a worker",
    X.RUNNING: "Being written",
    X.READY: "Ready to download",
    X.FAILED: "Failed",
}


def set_status(export: Export, new: ExportStatus) -> None:
    """Move the export to `new`, or raise IllegalMove. The only writer of its status."""
    check_move(TRANSITIONS, f"export {export.id}", export.status, new)
    export.status = new
    log.info("export %s is %s", export.id, new)
