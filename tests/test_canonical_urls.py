"""Canonical URLs (store/identity.py) and the migration that re-keys stored mentions by them
(store/schema.py m015_canonical_urls)."""

import json

import pytest

import store
from store.identity import canonical_url, mention_id, without_session
from store.schema import MIGRATIONS, m015_canonical_urls

CYRILLIC = "https://forum.example.com/тема/5#p5"
ENCODED = "https://forum.example.com/%D1%82%D0%B5%D0%BC%D0%B0/5#p5"


@pytest.mark.parametrize(("one", "other"), [
    (CYRILLIC, ENCODED),
    (CYRILLIC, ENCODED.lower()),  # %d1%82 is %D1%82
    ("https://f.example/viewtopic.php?t=1&p=10#p10",
     "https://F.example:443/viewtopic.php?p=10&t=1&sid=0f3c1e8d5a&utm_source=x#p10"),
    ("https://f.example/showthread.php?t=5",
     "https://f.example/showthread.php?s=0123456789abcdef0123456789abcdef&t=5"),
    ("https://f.example/showthread.php?t=5", "https://f.example/showthread.php?s=&t=5"),
    ("https://f.example/topic/5?page=2", "https://f.example/topic/5;jsessionid=A1B2C3?page=2"),
    ("https://f.example/index.php?topic=5", "https://f.example/index.php?topic=5&PHPSESSID=zz"),
    ("https://f.example/t?id=5", "https://f.example/t?sessionid=9&id=5"),
])
def test_two_spellings_of_one_post_are_one_mention(one, other):
    assert canonical_url(one) == canonical_url(other)
    assert mention_id("forum", one) == mention_id("forum", other)


@pytest.mark.parametrize(("one", "other"), [
    ("https://f.example/viewtopic.php?p=10#p10", "https://f.example/viewtopic.php?p=10#p11"),
    ("https://f.example/?s=volna", "https://f.example/?s=telenova"),  # a search, not a session
    ("https://f.example/тема/5", "https://f.example/тема/6"),
])
def test_different_posts_stay_apart(one, other):
    assert mention_id("forum", one) != mention_id("forum", other)


def test_stored_url_loses_only_its_session():
    assert without_session("https://f.example/тема/5;jsessionid=AB?b=2&sid=1&a=1#p5") == \
        "https://f.example/тема/5?b=2&a=1#p5"
    assert canonical_url("HTTP://F.example:8080/тема/5?b=2&a=1") == \
        "http://f.example:8080/%D1%82%D0%B5%D0%BC%D0%B0/5?a=1&b=2"


def test_upsert_stores_the_url_without_its_session(db, make_mention):
    store.upsert_mention(db, make_mention(
        url="https://forum.example.com/viewtopic.php?t=1&p=10&sid=abc#p10"))
    assert db.execute("SELECT url FROM mentions").fetchone()[0] == \
        "https://forum.example.com/viewtopic.php?t=1&p=10#p10"
    outcome = store.upsert_mention(db, make_mention(
        url="https://forum.example.com/viewtopic.php?p=10&t=1&sid=def#p10"))
    assert outcome == "unchanged"


# --- the migration -------------------------------------------------------------------------

def _before_m015(db_path):
    db = store.open_db(db_path, migrate=False)
    MIGRATIONS.apply(db, stop_before="m015_canonical_urls")
    return db


def _stored_as_before(db, make_mention, url, old_id, **fields):
    """A mention as an earlier version stored it: its URL as given, an id of its own."""
    store.upsert_mention(db, make_mention(url=url, **fields))
    seq = db.execute("SELECT max(seq) FROM mentions").fetchone()[0]
    db.execute("UPDATE mentions SET id = ?, url = ?, canonical_url = ? WHERE seq = ?",
               [old_id, url, url, seq])
    return seq


def _tag(db, mention, name, value):
    db.execute("""INSERT INTO tags (mention_id, name, value, model, model_version, content_hash,
                  tagged_at) VALUES (?, ?, ?, 'm', '1', 'h', '2026-11-01T00:00:00+00:00')""",
               [mention, name, value])


def test_migration_merges_spellings_and_drops_session_ids(db_path, make_mention):
    db = _before_m015(db_path)
    with db.conn:
        first = _stored_as_before(db, make_mention, CYRILLIC, "old-cyrillic",
                                  text="Волна списала деньги за роуминг")
        _stored_as_before(db, make_mention, ENCODED, "old-encoded",
                          text="Волна списала деньги за роуминг дважды")
        sid_url = "https://forum.example.com/viewtopic.php?t=1&p=10&sid=abc#p10"
        _stored_as_before(db, make_mention, sid_url, "old-sid", text="Теленова лучше")
        _stored_as_before(db, make_mention, "https://forum.example.com/тема/5#p6", "old-reply",
                          text="Ответ про роуминг")
        db.execute("UPDATE mentions SET parent_id = 'old-encoded' WHERE id = 'old-reply'")
        db.execute("UPDATE mentions SET duplicate_of = 'old-cyrillic' WHERE id = 'old-sid'")
        _tag(db, "old-cyrillic", "sentiment", "negative")
        _tag(db, "old-encoded", "sentiment", "positive")  # the kept row's own tag wins
        _tag(db, "old-encoded", "language", "ru")  # moves to the kept row
        db.execute("""INSERT INTO hits (mention_id, kind, key) VALUES ('old-encoded', 'brand',
                      'volna')""")
        db.execute("""INSERT INTO alerts (key, started_at, last_seen_at, example_ids)
                      VALUES ('k', '2026-11-01', '2026-11-01', ?)""",
                   [json.dumps(["old-encoded", "old-cyrillic", "old-sid"])])
    assert store.count_mentions(db) == 4
    MIGRATIONS.apply(db)

    rows = {row[0]: row[1:] for row in db.execute(
        "SELECT id, seq, url, canonical_url, parent_id, duplicate_of FROM mentions")}
    post, sid_post = mention_id("forum", CYRILLIC), mention_id("forum", sid_url)
    reply = mention_id("forum", "https://forum.example.com/тема/5#p6")
    assert sorted(rows) == sorted([post, sid_post, reply])  # one row per post
    assert rows[post][:3] == (first, CYRILLIC, canonical_url(ENCODED))  # the earliest row
    assert rows[sid_post][1] == "https://forum.example.com/viewtopic.php?t=1&p=10#p10"
    assert rows[reply][3] == post  # its parent, re-keyed
    assert rows[sid_post][4] == post
    tags = dict(db.execute("SELECT name, value FROM tags WHERE mention_id = ?", [post]))
    assert tags == {"sentiment": "negative", "language": "ru"}
    assert db.execute("SELECT mention_id FROM hits").fetchall() == [(post,)]
    assert json.loads(db.execute("SELECT example_ids FROM alerts").fetchone()[0]) == \
        [post, sid_post]
    found = store.search_mentions(db, "роуминг")
    assert sorted(result["id"] for result in found) == sorted([post, reply])
    assert db.execute("SELECT count(*) FROM mentions_fts").fetchone()[0] == 3
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Stored again by a crawl: the same post, not a new one.
    assert store.upsert_mention(db, make_mention(url=ENCODED,
                                                 text="Волна списала деньги за роуминг")) \
        == "unchanged"
    # Re-running changes nothing.
    before = db.execute("SELECT * FROM mentions ORDER BY seq").fetchall()
    with db.conn:
        m015_canonical_urls(db)
    assert db.execute("SELECT * FROM mentions ORDER BY seq").fetchall() == before
    db.close()


def test_migration_of_a_store_with_nothing_to_change(db_path, make_mention):
    db = _before_m015(db_path)
    with db.conn:
        store.upsert_mention(db, make_mention())
    MIGRATIONS.apply(db)
    assert store.count_mentions(db) == 1
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()
