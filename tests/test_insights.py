"""Insights over tagged mentions: alerts from a planted incident, customers at risk,
community questions, share of voice, and the exports a marketer opens."""

from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from test_tagger import lexicon_sentiment

import store
from config.catalogue import load_catalogue
from insights.analyze import analyze as run_analysis
from insights.cluster_steps import TfidfEmbedder
from insights.clustering import ClusterPipeline
from insights.export import write_rows
from insights.exports import EXPORTS, export_rows
from insights.mention_facts import BrandMention
from insights.questions import ThreadPost, community_questions
from insights.risk import customers_at_risk
from insights.voice import share_of_voice
from nlp.tagger import Tagger, tag_pending

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CALM = ["В Волне связь нормальная, тариф устраивает.",
        "Пользуюсь Волной третий год, интернет стабильный.",
        "Подскажите, у Волны есть тариф для планшета?"]
EVENING = "В Волне нет интернета по вечерам, скорость падает до нуля, роутер не помогает"
REFUND = "Волна списала деньги дважды, обещали вернуть деньги за 3 дня, ужас, прошло две недели"


def _bm(mention, author, published, brand="volna", stance="negative", touchpoints=(),
        intents=(), churn_target=None, thread=None):
    return BrandMention(mention, author, "forum", thread or f"forum:{mention}", published,
                        brand, None, stance, stance, tuple(touchpoints), tuple(intents),
                        churn_target, 0, 0, 0, False, False, f"https://f.example/{mention}",
                        "текст")


def test_customer_at_risk_is_found_with_the_touchpoint_that_failed():
    mentions = [
        _bm("1", "olga", "2026-11-18T10:00:00+00:00",
            touchpoints=[("onboarding", "negative")]),
        _bm("2", "olga", "2026-11-19T10:00:00+00:00", touchpoints=[("churn", "negative")],
            intents=["churn"], churn_target="telenova"),
        _bm("3", "ivan", "2026-11-19T11:00:00+00:00", stance="positive"),
        _bm("4", "petro", "2026-09-01T10:00:00+00:00"),  # too long ago
        _bm("5", "kate", "2026-11-17T10:00:00+00:00", brand="telenova"),  # a competitor's
    ]
    queue = customers_at_risk(mentions, {"volna"}, NOW, statuses={"olga": "contacted"})
    assert [entry.author_id for entry in queue] == ["olga"]
    olga = queue[0]
    assert olga.touchpoints == ["churn", "onboarding"]
    assert olga.churn and olga.churn_target == "telenova" and olga.status == "contacted"
    assert [post["id"] for post in olga.posts] == ["1", "2"]


def test_questions_answered_by_customers_and_by_the_brand():
    posts = [
        ThreadPost("q1", "t1", "olga", "2026-11-01T10:00:00+00:00", True, "u1", "Как?"),
        ThreadPost("a1", "t1", "Volna_Support", "2026-11-01T12:30:00+00:00", False, "u2", "Так"),
        ThreadPost("q2", "t2", "ivan", "2026-11-02T10:00:00+00:00", True, "u3", "Где?"),
        ThreadPost("s2", "t2", "ivan", "2026-11-02T11:00:00+00:00", False, "u4", "Ау"),
        ThreadPost("q3", "t3", "kate", "2026-11-03T10:00:00+00:00", True, "u5", "Why?"),
        ThreadPost("a3", "t3", "petro", "2026-11-04T10:00:00+00:00", False, "u6", "Try"),
    ]
    asked = {q.mention_id: q for q in community_questions(posts, ["Volna"])}
    assert asked["q1"].by_brand and asked["q1"].hours_to_answer == 2.5
    assert asked["q2"].answered_at is None  # talking to oneself is no answer
    assert asked["q3"].answered_by == "petro" and not asked["q3"].by_brand


def test_share_of_voice_and_its_change():
    mentions = [_bm(str(i), "a", "2026-11-10T10:00:00+00:00", stance="positive")
                for i in range(3)]
    mentions += [_bm("t", "b", "2026-11-10T10:00:00+00:00", brand="telenova")]
    mentions += [_bm(f"old{i}", "c", "2026-10-10T10:00:00+00:00", brand="telenova")
                 for i in range(3)]
    volna, telenova = share_of_voice(mentions, ["volna", "telenova"], NOW)
    assert (volna.mentions, volna.share, volna.net_sentiment) == (3, 0.75, 1.0)
    assert (telenova.previous_share, telenova.change) == (1.0, -0.75)


@pytest.fixture
def incident_db(db, make_mention):
    """Eight calm weeks about Volna, then a weekend of refund complaints."""
    start = datetime(2026, 9, 20, tzinfo=UTC)
    n = 0
    for day in range(60):
        for k, text in enumerate(CALM):
            n += 1
            when = start + timedelta(days=day, hours=9 + 4 * k)
            store.upsert_mention(db, make_mention(
                url=f"https://f.example/{n}", text=text, author_handle=f"user{n % 40}",
                thread_id=str(n), published_at=when.isoformat()))
        if day % 2 == 0:  # the everyday grumbling: a second theme for the clusters
            n += 1
            store.upsert_mention(db, make_mention(
                url=f"https://f.example/{n}", text=f"{EVENING} День {day}.",
                author_handle=f"user{n % 40}", thread_id=str(n),
                published_at=(start + timedelta(days=day, hours=21)).isoformat()))
    spike = datetime(2026, 11, 14, tzinfo=UTC)  # a Saturday
    for k in range(30):
        n += 1
        when = spike + timedelta(hours=2 + k * 1.5)
        store.upsert_mention(db, make_mention(
            url=f"https://f.example/{n}", text=f"{REFUND} (#{k})",
            author_handle=f"angry{k}", thread_id=str(n), published_at=when.isoformat()))
    tag_pending(db, Tagger(load_catalogue(), lexicon_sentiment, "lexicon-1", None, None))
    return db


def analyze(db, catalogue, now):
    """The analysis with TF-IDF vectors for clustering (the e5 path has its own tests)."""
    return run_analysis(db, catalogue, now, pipeline=ClusterPipeline(embed=TfidfEmbedder()))


def test_analyze_raises_one_billing_alert_for_the_weekend_incident(incident_db):
    catalogue = load_catalogue()
    counts = analyze(incident_db, catalogue, NOW)
    assert counts["alerts_new"] >= 1
    rows = incident_db.execute(
        "SELECT key, started_at, terms, example_ids FROM alerts ORDER BY key").fetchall()
    keys = [key for key, *_ in rows]
    assert "volna/*/billing" in keys
    assert all(not key.endswith("/network") for key in keys)
    billing = next(row for row in rows if row[0] == "volna/*/billing")
    assert billing[1].startswith("2026-11-14")
    assert "вернуть" in billing[2] or "дважды" in billing[2]
    assert len(billing[3]) > 10
    again = analyze(incident_db, catalogue, NOW)
    assert again["alerts_new"] == 0
    assert incident_db.execute("SELECT count(*) FROM alerts").fetchone()[0] == len(rows)
    assert counts["clusters"] >= 1
    sizes = dict(incident_db.execute(  # the clusters; their themes are rows too
        "SELECT label, size FROM clusters WHERE parent_id IS NOT NULL").fetchall())
    refund = [size for label, size in sizes.items() if "вернуть" in label or "дважды" in label]
    evening = [size for label, size in sizes.items()
               if any(word in label for word in ("вечер", "скорост", "интернет"))]
    assert refund == [30] and evening == [30], sizes


def test_exports_open_with_cyrillic_and_no_live_formula(incident_db, tmp_path):
    catalogue = load_catalogue()
    analyze(incident_db, catalogue, NOW)
    for what in EXPORTS:
        rows = export_rows(what, incident_db, catalogue, NOW)
        path = write_rows(rows, tmp_path / f"{what}.xlsx", EXPORTS[what])
        sheet = load_workbook(path).active
        assert [cell.value for cell in sheet[1]] == EXPORTS[what]
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    at_risk = export_rows("at-risk", incident_db, catalogue, NOW)
    assert any("billing" in row["touchpoints"] for row in at_risk)
    assert any(row["handle"].startswith("angry") for row in at_risk)
