from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import store

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/overview.py", "pages/mentions.py", "pages/sources.py"]


@pytest.fixture
def app_db(monkeypatch, db_path):
    monkeypatch.setenv("OTKLIK_DB", str(db_path))
    return db_path


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_database(app_db, page):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.info, "an empty page says what to do next"


def test_pages_show_stored_mentions(app_db, make_mention):
    with store.open_db(app_db) as db:
        store.upsert_mention(db, make_mention())
        store.upsert_mention(db, make_mention(url="https://f.example/2", author_handle="olena",
                                              text="<script>alert(1)</script> Дякую Волні"))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["2", "2"]
    at.switch_page("pages/mentions.py").run()
    at.text_input[0].input("волні").run()
    texts = [t.value for t in at.text]
    assert "<script>alert(1)</script> Дякую Волні" in texts
