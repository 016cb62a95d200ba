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
