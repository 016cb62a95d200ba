"""The read queries behind the dashboard (``insights.queries``): filter choices from index
lookups, evidence of a post, complaint clusters and their posts, advocates with their post
counts, who posted in a thread since when; and ``otklik app --catalogue``."""

import subprocess
import sys
from pathlib import Path

import pytest
from test_app import build_populated_db

import store
from insights import queries
from insights.mention_facts import brand_mentions_by_id

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parent.parent


def test_filter_choices_name_what_the_store_holds(db_path):
    with store.open_db(db_path) as db:
        assert queries.filter_choices(db) == {
            "languages": [], "sources": [], "first_published": None, "last_published": None,
            "has_mentions": False}
    build_populated_db(db_path)
    with store.open_db(db_path) as db:
        choices = queries.filter_choices(db)
        assert choices["languages"] == ["en", "ru", "uk"]
        assert choices["sources"] == ["forum", "reviews", "telegram"]
        assert choices["has_mentions"]
        assert (choices["first_published"], choices["last_published"]) == db.execute(
            "SELECT min(published_at), max(published_at) FROM mentions").fetchone()


def test_evidence_has_tags_hits_in_text_order_and_corrections(db_path):
    ids = build_populated_db(db_path)
    with store.open_db(db_path) as db:
        store.add_correction(db, ids["xss"], "sentiment", "neutral", "sarcasm")
        evidence = queries.mention_evidence(db, [ids["xss"], "no-such-post"])
    post = evidence[ids["xss"]]
    assert post["tags"]["sentiment"]["value"] == "negative"
    assert post["tags"]["sentiment"]["evidence"]["sentences"][0]["label"] == "negative"
    assert [(h["kind"], h["key"]) for h in post["hits"]] == [("brand", "volna"),
                                                              ("touchpoint", "billing")]
    assert [h["start"] for h in post["hits"]] == sorted(h["start"] for h in post["hits"])
    assert post["corrections"][0] | {"created_at": None} == {
        "field": "sentiment", "old_value": "negative", "new_value": "neutral",
        "note": "sarcasm", "created_at": None}
    assert evidence["no-such-post"] == {"tags": {}, "hits": [], "corrections": []}
    with store.open_db(db_path) as db:
        rows = brand_mentions_by_id(db, [ids["xss"]])
    assert [(m.brand, m.sentiment, m.language) for m in rows] == [("volna", "neutral", "ru")]


def test_clusters_largest_first_and_their_posts_representative_first(db_path):
    from store.insights import replace_clusters

    ids = build_populated_db(db_path)
    with store.open_db(db_path) as db:
        billing = [row[0] for row in db.execute(
            "SELECT mention_id FROM hits WHERE kind = 'touchpoint' AND key = 'billing' "
            "ORDER BY mention_id")]
        replace_clusters(db, [
            {"id": "small", "label": "support", "terms": [], "size": 2, "details": {},
             "members": [(m, 0.5, False) for m in billing[:2]]},
            {"id": "big", "label": "billing", "terms": [["роуминг", 0.4]], "size": 9,
             "details": {"touchpoints": [["billing", 9]]},
             "members": [(m, i / 10, m == ids["xss"]) for i, m in enumerate(billing[:9])]}])
        clusters = queries.complaint_clusters(db)
        members = queries.cluster_members(db, "big", limit=4)
        days = queries.cluster_days(db)
    assert [c["id"] for c in clusters] == ["big", "small"]
    assert clusters[0]["terms"] == [["роуминг", 0.4]]
    assert clusters[0]["details"] == {"touchpoints": [["billing", 9]]}
    assert members[0]["mention_id"] == ids["xss"] and members[0]["representative"]
    assert [m["score"] for m in members[1:]] == sorted(m["score"] for m in members[1:])
    assert len(members) == 4 and all(m["text"] and m["url"] for m in members)
    assert sum(days["big"].values()) == 9 and sum(days["small"].values()) == 2


def test_advocates_count_every_post_of_the_shown_authors(db_path):
    build_populated_db(db_path)
    with store.open_db(db_path) as db:
        best = queries.advocates(db, "volna", limit=2)
        counted = dict(db.execute("SELECT author_id, count(*) FROM mentions GROUP BY 1"))
        last = dict(db.execute("SELECT author_id, max(published_at) FROM mentions GROUP BY 1"))
    assert [row["handle"] for row in best] == ["kate", "petro"]
    assert [row["mentions"] for row in best] == [counted[row["author_id"]] for row in best]
    assert [row["last_seen"] for row in best] == [last[row["author_id"]] for row in best]
    assert best[0]["components"]["positive"] > 0


def test_thread_authors_since_a_time_and_of_some_threads(db_path):
    build_populated_db(db_path)
    with store.open_db(db_path) as db:
        everything = queries.thread_authors(db)
        since = "2026-11-15T00:00:00+00:00"
        recent = queries.thread_authors(db, since)
        some = queries.thread_authors(db, "2026-11-16T12:00:00+00:00",
                                      ["forum:q1", "forum:q2", "nowhere:1"])
        profiles = queries.author_profiles(db, [store.author_id("forum", "kate"), "ghost"])
    assert recent == {thread: [(when, a) for when, a in posts if when >= since]
                      for thread, posts in everything.items()
                      if any(when >= since for when, _ in posts)}
    assert set(some) == {"forum:q1"}  # q2 was asked and answered before then
    assert list(profiles) == [store.author_id("forum", "kate")]
    assert profiles[store.author_id("forum", "kate")]["handle"] == "kate"


def test_app_command_refuses_a_broken_catalogue(tmp_path):
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("industry: [", encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "app", "--catalogue",
                             str(bad), "--db", str(tmp_path / "x.db")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "not valid YAML" in result.stderr


def test_search_between_days_finds_what_the_store_search_finds_in_them(db_path):
    from dashboard.filters import day_of

    build_populated_db(db_path)
    with store.open_db(db_path) as db:
        for text in ("списала", "Volna", '"верните!"', "за", "Підтримка Волни", "nothing"):
            for first, last, source in (("2026-10-24", "2026-11-20", None),
                                        ("2026-11-01", "2026-11-10", "forum")):
                everywhere = [post for post in store.search_mentions(db, text, source=source,
                                                                     limit=1000)
                              if first <= day_of(post["published_at"]) <= last]
                found = queries.search_between(db, text, first, last, source=source, limit=5)
                assert found == everywhere[:5], (text, first, source)
        assert queries.search_between(db, "   ", "2026-10-24", "2026-11-20") == []
