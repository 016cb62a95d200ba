import csv

import pytest
from openpyxl import load_workbook

from insights.export import write_rows

ROWS = [
    {"author": "Олена", "text": "=HYPERLINK(\"http://evil\")", "score": 0.9},
    {"author": "+380 67 000", "text": "Рекомендую Волну 👍", "score": -1},
    {"author": "@kate", "text": "-5 stars", "score": None},
]


def test_csv_has_bom_keeps_cyrillic_and_defuses_formulas(tmp_path):
    path = write_rows(ROWS, tmp_path / "advocates.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["author"] == "Олена"
    assert rows[0]["text"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["author"] == "'+380 67 000"
    assert rows[1]["text"] == "Рекомендую Волну 👍"
    assert rows[2]["author"] == "'@kate" and rows[2]["text"] == "'-5 stars"


def test_xlsx_opens_and_no_cell_is_a_live_formula(tmp_path):
    path = write_rows(ROWS, tmp_path / "advocates.xlsx")
    sheet = load_workbook(path).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["author", "text", "score"]
    assert values[2] == ["'+380 67 000", "Рекомендую Волну 👍", -1]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="use a .csv or .xlsx file name"):
        write_rows(ROWS, tmp_path / "out.json")
