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
    assert values[1] == ["Олена", "=HYPERLINK(\"http://evil\")", 0.9]
    assert values[2] == ["+380 67 000", "Рекомендую Волну 👍", -1]
    assert values[3] == ["@kate", "-5 stars", None]
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


RISKY = ["\n=1+1", "\r=1+1", "\t=1+1", "＝1+1", "＋380 67", "－ не работает", "＠kate"]


@pytest.mark.parametrize("text", RISKY)
def test_csv_defuses_line_breaks_tabs_and_fullwidth_formula_starts(tmp_path, text):
    path = write_rows([{"text": text}], tmp_path / "risky.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["text"] == "'" + text


def test_xlsx_keeps_every_text_as_written_in_string_cells(tmp_path):
    texts = ["- Связь пропала опять", "=SUM(A1:A2)", "+7 999", "@volna_help", *RISKY,
             "'уже в кавычке", "обычный текст", "42"]
    path = write_rows([{"text": text, "n": 1} for text in texts], tmp_path / "posts.xlsx")
    sheet = load_workbook(path).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in cells] == texts
    assert {cell.data_type for cell in cells} == {"s"}
    assert {row[1].data_type for row in sheet.iter_rows(min_row=2)} == {"n"}


def test_xlsx_leaves_out_control_characters_it_cannot_hold(tmp_path):
    path = write_rows([{"text": "Волна\x01 \x0bсписала\x1f"}], tmp_path / "ctl.xlsx")
    (cell,) = next(load_workbook(path).active.iter_rows(min_row=2))
    assert (cell.value, cell.data_type) == ("Волна списала", "s")


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="use a .csv or .xlsx file name"):
        write_rows(ROWS, tmp_path / "out.json")
