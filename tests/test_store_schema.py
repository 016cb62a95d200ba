import store
from store.schema import MIGRATIONS

EXPECTED_TABLES = {
    "sources", "authors", "mentions", "mention_history", "mentions_fts", "tags", "hits",
    "corrections", "clusters", "cluster_members", "alerts", "advocate_scores", "risk_status",
    "crawl_state", "crawl_runs", "erasures", "mention_bands", "embeddings",
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
