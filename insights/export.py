"""Exports that open safely in Excel and LibreOffice: CSV (UTF-8 with BOM) and XLSX."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# What a spreadsheet may read as the start of a formula, the fullwidth forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
FORMATS = ("csv", "xlsx")


def defuse(value):
    """A CSV cell value that a spreadsheet will not run as a formula (prefixed with ')."""
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
        _append_as_text(sheet, columns)
        for row in rows:
            _append_as_text(sheet, [_cell(row.get(column)) for column in columns])
        workbook.save(path)
    return path


def _append_as_text(sheet, values: list) -> None:
    """Append a row whose text cells are string cells, so a text that starts with ``=`` or
    ``-`` shows as written and never runs; characters XLSX cannot hold are left out."""
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
                  for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _cell(value):
    if isinstance(value, (list, dict, tuple)):
        return str(value)
    return value
