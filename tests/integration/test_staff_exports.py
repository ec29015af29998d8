"""A large CSV export is built by a task into a file and downloaded when ready; a small one
still streams at once; the web worker never writes a big one itself."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shop.extensions import db
from shop.staff import exports
from shop.staff.export_state import ExportStatus
from shop.staff.models import Export
from shop.staff.service import OrderFilters, csv_chunks
from tests.integration.test_staff import (  # noqa: F401  (fixtures)
    T0,
    make_order,
    manager,
    viewer,
)

SMALL = {"EXPORT_STREAM_MAX_ROWS": 2}


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.shop_config(SMALL)
def test_a_large_export_is_built_by_a_task_and_downloaded_when_ready(
    app: Flask, manager: FlaskClient, viewer: FlaskClient, tmp_path: Path,  # noqa: F811
) -> None:
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    numbers = [make_order(app, status="paid", created_at=T0 + timedelta(minutes=i),
                          email=f"big{i}@example.org") for i in range(5)]

    # Two orders or fewer still stream in the response.
    small = manager.get("/staff/orders.csv?q=big1@", buffered=False)
    assert small.status_code == 200 and small.is_streamed
    assert [row[0] for row in rows_of(small.get_data(as_text=True))[1:]] == [numbers[1]]

    # More: the request only asks for the export and sends staff to its page.
    asked = manager.get("/staff/orders.csv?status=paid")
    assert asked.status_code == 303
    status_page = asked.location
    assert re.fullmatch(r"/staff/exports/[\w-]{20,}", status_page)
    # Without a broker the task ran in-process once the request committed.
    page = manager.get(status_page).get_data(as_text=True)
    assert 'data-status="ready"' in page and 'http-equiv="refresh"' not in page
    assert "5 of 5 orders written" in page
    link = re.search(r'href="([^"]+)" data-testid="staff-export-download"', page)
    assert link is not None
    progress = manager.get(status_page, headers={"Accept": "application/json"}).get_json()
    assert progress["status"] == "ready" and progress["rows_written"] == 5

    download = viewer.get(link.group(1))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    disposition = download.headers["Content-Disposition"]
    assert re.search(r"filename=orders_start_to_\d{4}-\d\d-\d\d_status-paid\.csv",
                     disposition)
    rows = rows_of(download.get_data(as_text=True))
    assert [row[0] for row in rows[1:]] == list(reversed(numbers))
    # The same columns and values as the streamed export of the same orders.
    with app.test_request_context():
        streamed = rows_of("".join(csv_chunks(OrderFilters(status="paid"))))
    assert rows == streamed

    # Asked again at once (a reload): the same export, not a second build.
    assert manager.get("/staff/orders.csv?status=paid").location == status_page
    assert manager.get("/staff/exports/not-a-token").status_code == 404
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Export.id))) == 1
        export = db.session.scalars(db.select(Export)).one()
        assert exports.build(export.id) is False  # a finished export is left alone
        export.finished_at = export.finished_at - exports.KEEP_FOR
        db.session.commit()
    gone = manager.get(link.group(1))
    assert gone.status_code == 409 and "no longer available" in gone.get_data(as_text=True)


@pytest.mark.shop_config(SMALL)
def test_an_export_waiting_for_a_worker_shows_its_progress_and_then_its_file(
    app: Flask, manager: FlaskClient, tmp_path: Path,  # noqa: F811
) -> None:
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    for i in range(5):
        make_order(app, status="paid", created_at=T0 + timedelta(minutes=i))
    with app.app_context():
        export = Export(token="t" * 32, status=ExportStatus.QUEUED, filters={},
                        filename="orders.csv", created_by="x@example.org",
                        rows_estimated=5000, rows_written=1200)
        db.session.add(export)
        db.session.commit()
        export_id = export.id
    page = manager.get("/staff/exports/" + "t" * 32).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "Waiting for a worker" in page
    assert '<progress max="5000" value="1200"' in page
    assert "1,200 of about 5,000 orders written" in page
    assert manager.get(f"/staff/exports/{'t' * 32}/download").status_code == 409

    with app.app_context():  # the worker, writing two rows a batch
        assert exports.build(export_id, batch_size=2) is True
        built = db.session.get(Export, export_id)
        assert built is not None and built.status == ExportStatus.READY
        assert built.rows_written == 5
        assert len(rows_of(exports.file_of(built).read_text())) == 6
