"""Read back the PDFs the shop sends: their text, as a reader would see it."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """Every page's text, whitespace collapsed so wrapped sentences read as one line."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
