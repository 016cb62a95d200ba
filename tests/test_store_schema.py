import sqlite3

import pytest

import store
from store.schema import MIGRATIONS

EXPECTED_TABLES = {
    "sources", "authors", "mentions", "mention_history", "mentions_fts", "tags", "hits",
    "corrections", "clusters", "cluster_members", "alerts", "advocate_scores", "risk_status",
    "crawl_state", "crawl_runs", "erasures", "mention_bands", "embeddings", "brand_days",
    "touchpoint_days", "author_days", "rollup_stale_days", "cluster_days", "webhook_deliveries",
}


def test_schema_has_every_table(db):
    assert set(db.table_names()) >= EXPECTED_TABLES


def test_migrations_rerun_safely(db_path, make_mention):
    first = store.open_db(db_path)
    store.upsert_mention(first, make_mention())
    applied = [m.name for m in MIGRATIONS.applied(first)]
    first.close()
    again = store.open_db(db_path)
    MIGRATIONS.apply(again)
    assert [m.name for m in MIGRATIONS.applied(again)] == applied
    assert MIGRATIONS.pending(again) == []
    assert store.count_mentions(again) == 1


def test_database_uses_wal(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_processes_opening_a_new_database_at_once_do_not_race(db_path):
    import subprocess
    import sys

    code = f"import store; store.open_db({str(db_path)!r}).close()"
    children = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0, 0]
    with store.open_db(db_path) as db:
        assert MIGRATIONS.pending(db) == []


def test_a_sqlite_file_of_another_program_is_refused_untouched(tmp_path):
    foreign = tmp_path / "crm.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Olena')")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(store.StoreError, match="not an Otklik store"):
        store.open_db(foreign)
    assert foreign.read_bytes() == before
    assert not (tmp_path / "crm.sqlite-wal").exists()


def test_a_file_that_is_no_database_leaves_no_side_files(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("not a database at all\n" * 100, encoding="utf-8")
    with pytest.raises(sqlite3.DatabaseError):
        store.open_db(notes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
