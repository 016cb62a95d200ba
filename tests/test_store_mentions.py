import json

import pytest

import store

pytestmark = pytest.mark.both_backends


def test_same_post_twice_is_one_row(db, make_mention):
    assert store.upsert_mention(db, make_mention()) == "inserted"
    assert store.upsert_mention(db, make_mention()) == "unchanged"
    assert db.execute("SELECT count(*) FROM mentions").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM authors").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM mention_history").fetchone()[0] == 0


def test_session_and_tracking_parameters_do_not_make_a_new_post(db, make_mention):
    store.upsert_mention(db, make_mention(url="https://Forum.Example.com:443/viewtopic.php?p=10&t=1#p10"))
    outcome = store.upsert_mention(
        db, make_mention(url="https://forum.example.com/viewtopic.php?t=1&p=10&sid=abc&utm_source=x#p10")
    )
    assert outcome == "unchanged"
    assert store.count_mentions(db) == 1


def test_edit_updates_in_place_and_keeps_old_text(db, make_mention):
    store.upsert_mention(db, make_mention(text="Первая версия"))
    assert store.upsert_mention(db, make_mention(text="Исправленная версия")) == "updated"
    text, version = db.execute("SELECT text, version FROM mentions").fetchone()
    assert (text, version) == ("Исправленная версия", 2)
    history = db.execute("SELECT version, text FROM mention_history").fetchall()
    assert history == [(1, "Первая версия")]
    assert store.search_mentions(db, "Исправленная")[0]["text"] == "Исправленная версия"
    assert store.search_mentions(db, "Первая") == []


def test_engagement_counts_refresh_without_an_edit(db, make_mention):
    store.upsert_mention(db, make_mention(likes=2, views=10))
    assert store.upsert_mention(db, make_mention(likes=5, views=None)) == "unchanged"
    assert db.execute("SELECT likes, views FROM mentions").fetchone() == (5, 10)


def test_parent_and_quotes_are_kept(db, make_mention):
    parent_url = "https://forum.example.com/viewtopic.php?t=1&p=10#p10"
    store.upsert_mention(db, make_mention(
        url="https://forum.example.com/viewtopic.php?t=1&p=11#p11", kind="reply",
        parent_url=parent_url, quotes=[{"author": "ivan_petrov", "text": "верните!"}],
        text="Поддерживаю.", author_handle="olena",
    ))
    parent_id, quotes = db.execute("SELECT parent_id, quotes FROM mentions").fetchone()
    assert parent_id == store.mention_id("forum", parent_url)
    assert json.loads(quotes) == [{"author": "ivan_petrov", "text": "верните!"}]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": ""}, "mention field 'url' is required, got ''"),
        ({"source": None}, "mention field 'source' is required, got None"),
        ({"kind": "tweet"},
         "mention kind 'tweet' is not one of post, comment, review, article, reply"),
    ],
)
def test_bad_mention_is_refused_with_a_clear_error(db, make_mention, fields, message):
    with pytest.raises(store.StoreError) as error:
        store.upsert_mention(db, make_mention(**fields))
    assert str(error.value) == message
    assert store.count_mentions(db) == 0


def test_a_bad_mention_in_a_batch_stores_none_of_the_batch(db, make_mention):
    good = make_mention()
    bad = make_mention(url="https://forum.example.com/p/2", kind="tweet")
    with pytest.raises(store.StoreError):
        store.upsert_mentions(db, [good, bad])
    assert store.count_mentions(db) == 0
    assert store.upsert_mentions(db, [good])["inserted"] == 1


def test_edit_time_known_at_first_crawl_is_kept(db, make_mention):
    store.upsert_mention(db, make_mention(edited_at="2026-10-02T08:00:00+00:00"))
    assert db.execute("SELECT edited_at FROM mentions").fetchone()[0] == (
        "2026-10-02T08:00:00+00:00")
