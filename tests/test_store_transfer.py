"""`otklik migrate-store`: a store copied to another (SQLite to PostgreSQL and back) keeps
every row, its search results, its erased authors and its dashboard figures."""

import subprocess
import sys

import pytest
from conftest import ROOT, fresh_postgres_database
from test_dashboard_rollups import build_store, views_choices

import store
from dashboard import views
from dashboard.data import read_catalogue
from dashboard.filters import default_filters
from insights import daily
from insights.queries import overview
from store.transfer import copy_order, copy_store


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    path = tmp_path_factory.mktemp("transfer") / "original.db"
    build_store(path, posts=160)
    with store.open_db(path) as db:
        store.erase_author(db, "forum", "user3")
        daily.refresh(db)
    return path


def table_rows(target) -> dict[str, list]:
    """Every table's rows, sorted, with floats rounded (engines print them differently)."""
    def cell(value):
        return round(value, 9) if isinstance(value, float) else value

    with store.open_db(target) as db:
        rows = {}
        for table, _ in copy_order():
            columns = ("rowid, title, text" if table == "mentions_fts"
                       else ", ".join(f'"{column}"' for column in db.columns_of(table)))
            rows[table] = sorted(
                (tuple(cell(value) for value in row)
                 for row in db.execute(f"SELECT {columns} FROM {table}")), key=repr)
        return rows


def figures(target) -> dict:
    catalogue = read_catalogue()
    with store.open_db(target) as db:
        filters = default_filters(views_choices(db, catalogue))
        return {"overview": overview(db),
                "dashboard": {page: getattr(views, page)(db, filters, catalogue)
                              for page in ("overview", "journey", "at_risk", "questions")},
                "search": [hit["id"] for hit in store.search_mentions(db, "post 1", limit=50)],
                "refused": store.upsert_mention(db, {
                    "source": "forum", "url": "https://forum.example.com/t/1#new",
                    "kind": "post", "text": "back again", "author_handle": "user3"})}



def test_parents_are_copied_before_the_tables_that_name_them():
    order = [table for table, _ in copy_order()]
    assert order.index("sources") < order.index("authors") < order.index("mentions")
    assert order.index("mentions") < order.index("hits")
    assert order.index("incidents") < order.index("alerts") < order.index("alert_posts")
    assert dict(copy_order())["clusters"] == "parent_id"


def test_a_sqlite_store_copied_to_another_file_is_its_twin(original, tmp_path):
    copy = tmp_path / "copy.db"
    counts = copy_store(original, copy)
    assert counts["mentions"] == len(table_rows(original)["mentions"]) > 100
    assert counts["erased_authors"] and counts["store_secrets"] == 1
    assert table_rows(copy) == table_rows(original)
    assert figures(copy) == figures(original)
    assert figures(copy)["refused"] == "suppressed"  # the erased author stays out


def test_a_store_with_posts_is_not_overwritten(original, tmp_path):
    copy = tmp_path / "copy.db"
    copy_store(original, copy)
    with pytest.raises(store.StoreError, match="already holds"):
        copy_store(original, copy)


def test_postgresql_round_trip_keeps_every_row_search_and_figure(original, tmp_path,
                                                                   postgres_template):
    with fresh_postgres_database(postgres_template) as url:
        counts = copy_store(original, url)
        assert counts == {table: len(rows) for table, rows in table_rows(original).items()}
        assert table_rows(url) == table_rows(original)
        back = tmp_path / "back.db"
        copy_store(url, back)
        assert table_rows(back) == table_rows(original)
        assert figures(url) == figures(original) == figures(back)


def test_the_command_copies_and_reports_checked_counts(original, tmp_path):
    copy = tmp_path / "cli-copy.db"
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "migrate-store",
                           str(original), str(copy)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "every count checked" in done.stdout
    again = subprocess.run([sys.executable, str(ROOT / "cli.py"), "migrate-store",
                            str(original), str(copy)], capture_output=True, text=True,
                           cwd=ROOT, timeout=300)
    assert again.returncode == 1
    assert again.stderr.strip().startswith("error:") and "already holds" in again.stderr
    missing = subprocess.run([sys.executable, str(ROOT / "cli.py"), "migrate-store",
                              str(tmp_path / "nothing.db"), str(tmp_path / "x.db")],
                             capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert missing.returncode == 1 and "no store at" in missing.stderr
