import json

import pytest

import store
from store.tags import Tag, write_tags


def _all_text(db) -> str:
    """Every value of every row of every table, as one string."""
    chunks = []
    for table in db.table_names():
        for row in db.execute(f"SELECT * FROM [{table}]").fetchall():
            chunks.append(json.dumps(row, ensure_ascii=False, default=str))
    return "\n".join(chunks).casefold()


def test_erasure_leaves_no_row_naming_the_author(db, make_mention):
    own = make_mention(url="https://f.example/p/1", author_handle="Svetlana_K",
                       author_name="Светлана Ковальчук", text="Мой секретный отзыв о Волне")
    store.upsert_mention(db, own)
    store.upsert_mention(db, {**own, "text": "Мой исправленный отзыв о Волне"})
    reply = make_mention(url="https://f.example/p/2", author_handle="boris",
                         text="Не согласен.",
                         quotes=[{"author": "Svetlana_K", "text": "Мой исправленный отзыв"}])
    store.upsert_mention(db, reply)
    erased_id = store.mention_id("forum", "https://f.example/p/1")
    author = store.author_id("forum", "Svetlana_K")
    store.upsert_mention(db, make_mention(url="https://f.example/p/3", author_handle="copycat",
                                          text="Скопировано", duplicate_of=erased_id))
    write_tags(db, [Tag(erased_id, "sentiment", "negative", 0.9, "m", "1", "h")])
    db.execute("INSERT INTO hits (mention_id, kind, key, evidence) VALUES (?, 'brand', "
               "'volna', 'Волне')", [erased_id])
    db.execute("INSERT INTO advocate_scores VALUES (?, 'volna', 0.8, '{}', 'now')", [author])
    db.execute("INSERT INTO risk_status VALUES (?, 'new', NULL, 'now')", [author])
    db.execute("INSERT INTO clusters (id, label, created_at, updated_at) "
               "VALUES ('c1', 'refunds', 'now', 'now')")
    db.execute("INSERT INTO cluster_members VALUES ('c1', ?, 0.9, 1)", [erased_id])
    db.execute("INSERT INTO alerts (key, started_at, last_seen_at, example_ids) "
               "VALUES ('volna/billing', 'now', 'now', ?)",
               [json.dumps([erased_id, "other"])])
    db.execute("INSERT INTO corrections (mention_id, field, new_value, created_at) "
               "VALUES (?, 'sentiment', 'neutral', 'now')", [erased_id])
    db.conn.commit()

    counts = store.erase_author(db, "forum", "svetlana_k")

    assert counts == {"mentions": 1, "quotes": 1, "masked": 0, "wal_cleared": True}
    dump = _all_text(db)
    for trace in ("svetlana", "ковальчук", "секретный", "исправленный", erased_id, author):
        assert trace.casefold() not in dump
    assert store.count_mentions(db) == 2
    assert "не согласен" in dump
    (log,) = db.execute("SELECT source_id, counts FROM erasures").fetchall()
    assert log[0] == "forum" and json.loads(log[1]) == {"mentions": 1, "quotes": 1, "masked": 0}
    assert store.search_mentions(db, "отзыв") == []


def test_erasing_an_unknown_author_is_an_error(db):
    with pytest.raises(store.StoreError, match="no author 'ghost' in source 'forum'"):
        store.erase_author(db, "forum", "ghost")
