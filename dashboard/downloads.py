"""File bytes for the dashboard's download buttons, written by ``insights.export.write_rows``
(CSV with BOM or XLSX, cells that look like formulas defused)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from insights.export import write_rows

MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet"}


def export_bytes(rows: Sequence[dict], columns: Sequence[str], fmt: str) -> bytes:
    """The rows as a CSV or XLSX file's bytes, with exactly ``columns``."""
    if fmt not in MIME:
        raise ValueError(f"cannot export as {fmt!r}; choose {', '.join(MIME)}")
    with tempfile.TemporaryDirectory(prefix="otklik-export-") as folder:
        path = write_rows(rows, Path(folder) / f"export.{fmt}", columns)
        return path.read_bytes()


def file_name(what: str, fmt: str, stamp: str) -> str:
    """``otklik-advocates-2026-11-20.csv``."""
    return f"otklik-{what}-{stamp}.{fmt}"
