"""Exports that open safely in Excel and LibreOffice: CSV (UTF-8 with BOM) and XLSX."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


def defuse(value):
    """A cell value that a spreadsheet will not run as a formula (prefixed with ')."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_rows(
    rows: Sequence[dict], path: str | Path, columns: Sequence[str] | None = None
) -> Path:
    """Write ``rows`` to ``path``; the format follows the suffix (.csv or .xlsx)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot export to {path.name!r}: use a .csv or .xlsx file name")
    columns = list(columns or (rows[0].keys() if rows else []))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([defuse(row.get(column)) for column in columns])
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "export"
        sheet.append(columns)
        for row in rows:
            sheet.append([defuse(_cell(row.get(column))) for column in columns])
        workbook.save(path)
    return path


def _cell(value):
    if isinstance(value, (list, dict, tuple)):
        return str(value)
    return value
