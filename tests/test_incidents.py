"""Incidents: the alerts one event raises are one incident, with its slices and the
touchpoint it is about first, kept under one id across runs of ``otklik analyze``."""

from datetime import UTC, datetime, timedelta

import pytest
from test_insights import NOW, REFUND, _bm, analyze, incident_db  # noqa: F401  (a fixture)

import store
from config.catalogue import load_catalogue
from insights import queries
from insights.alerts import find_alerts
from insights.analyze import brand_words, refresh_incidents
from insights.incidents import AlertSlice, group_alerts, rank_touchpoints
from insights.mention_facts import brand_mentions
from nlp.tagger import Tagger, tag_pending
from store.incidents import save_incidents, set_incident_status
from store.insights import upsert_alert

pytestmark = pytest.mark.both_backends

T0 = datetime(2026, 11, 12, 10, tzinfo=UTC)


def _slice(alert_id, posts, product=None, touchpoint=None, start=T0, hours=30, terms=()):
    return AlertSlice(alert_id, "volna", product, touchpoint, start,
                      start + timedelta(hours=hours), "hour", len(posts), 2.0, True,
                      frozenset(posts), tuple(terms))


def _ids(prefix, n):
    return {f"{prefix}{i}" for i in range(n)}


def test_one_event_on_many_slices_is_one_incident():
    esim, network = _ids("esim", 60), _ids("net", 8)
    alerts = [
        _slice(1, esim | network | _ids("other", 10)),  # the brand: every negative
        _slice(2, _ids("esim", 40), product="volna-app"),
        _slice(3, esim, touchpoint="onboarding", terms=("esim", "apn", "активация", "профиль")),
        _slice(4, _ids("esim", 30), touchpoint="digital"),
        _slice(5, _ids("esim", 12) | network, touchpoint="network"),
        _slice(6, _ids("esim", 40), product="volna-app", touchpoint="onboarding"),
        # support: other posts, but the same words
        _slice(7, _ids("sup", 9), touchpoint="support", terms=("esim", "apn", "активация")),
    ]
    groups = group_alerts(alerts)
    assert [sorted(a.alert_id for a in group) for group in groups] == [[1, 2, 3, 4, 5, 6, 7]]


def test_two_events_in_one_week_stay_two_incidents():
    billing, esim = _ids("bill", 30), _ids("esim", 90)
    alerts = [
        _slice(1, billing | esim, hours=72),  # the brand's alert spans both
        _slice(2, billing, touchpoint="billing", start=T0 + timedelta(hours=30)),
        _slice(3, esim, touchpoint="onboarding", terms=("esim", "apn", "активация", "профиль")),
        _slice(4, _ids("esim", 50), touchpoint="digital"),
        _slice(5, _ids("old", 20), touchpoint="billing", start=T0 - timedelta(days=20)),
    ]
    groups = {tuple(sorted(a.alert_id for a in group)) for group in group_alerts(alerts)}
    assert groups == {(1, 3, 4), (2,), (5,)}  # the brand's alert goes where most posts are


def test_the_touchpoint_the_incident_is_about_comes_first():
    """Network is named by more of the incident's posts, but it always is: onboarding is
    what changed."""
    def post(i, *touchpoints):
        return _bm(str(i), "a", "2026-11-12T10:00:00+00:00",
                   touchpoints=[(t, "negative") for t in touchpoints])

    during = ([post(i, "onboarding", "network") for i in range(20)]
              + [post(100 + i, "network") for i in range(15)])
    before = [post(200 + i, "network") for i in range(60)] + [post(300, "billing")]
    ranked = rank_touchpoints(during, before)
    assert [t.touchpoint for t in ranked] == ["onboarding", "network"]
    assert ranked[1].posts == 35 and ranked[0].posts == 20
    assert ranked[0].baseline_share < 0.01 < ranked[1].baseline_share


def test_analyze_makes_one_incident_of_the_weekend_with_its_slices_and_a_rerun_keeps_it(
        incident_db):  # noqa: F811
    catalogue = load_catalogue()
    counts = analyze(incident_db, catalogue, NOW)
    assert counts["alerts_new"] >= 2 and counts["incidents_new"] == 1
    (incident,) = queries.open_incidents(incident_db, seen_since="2026-11-01")
    assert incident["touchpoints"][0]["touchpoint"] == "billing"
    assert incident["started_at"].startswith("2026-11-14") and incident["posts"] == 30
    assert {s["key"] for s in incident["slices"]} >= {"volna/*/*", "volna/*/billing"}
    assert next(s for s in incident["slices"] if s["key"] == "volna/*/billing")["observed"] == 30
    assert {"вернуть", "дважды"} & {t["term"] for t in incident["terms"]}
    assert len(incident["example_ids"]) == 5 and sum(n for _, n in incident["course"]) == 30

    again = analyze(incident_db, catalogue, NOW)
    assert (again["incidents_new"], again["incidents_updated"]) == (0, 1)
    assert [i["id"] for i in queries.open_incidents(incident_db, seen_since="2026-11-01")] \
        == [incident["id"]]

    # the weekend goes on: ten more posts on Sunday; the incident grows under its id
    for k in range(10):
        store.upsert_mention(incident_db, {
            "source": "forum", "url": f"https://f.example/more{k}", "kind": "post",
            "text": f"{REFUND} (#{30 + k})", "thread_id": f"more{k}",
            "author_handle": f"late{k}",
            "published_at": f"2026-11-15T{10 + k:02d}:00:00+00:00"})
    tag_pending(incident_db, Tagger(catalogue, _lexicon(), "lexicon-1", None, None))
    assert _spikes_and_incidents(incident_db, catalogue) == (0, 1)
    (later,) = queries.open_incidents(incident_db, seen_since="2026-11-01")
    assert later["id"] == incident["id"] and later["posts"] == 40


def _spikes_and_incidents(db, catalogue):
    """The alert and incident stages of ``otklik analyze`` alone (no clustering)."""
    mentions = brand_mentions(db)
    found = [upsert_alert(db, alert.pop("key"), alert)[0]
             for alert in find_alerts(mentions, {"volna"}, NOW, brand_words(catalogue))]
    return refresh_incidents(db, catalogue, found, mentions)


def _lexicon():
    from test_tagger import lexicon_sentiment
    return lexicon_sentiment


def _stored_alert(db, key, touchpoint, started):
    return upsert_alert(db, key, {
        "brand": "volna", "touchpoint": touchpoint, "started_at": started,
        "last_seen_at": started, "magnitude": 3.0, "baseline": 2.0,
        "details": {"observed": 6, "ongoing": True}})[0]


def _incident_of(alert_ids, started="2026-11-14T00:00:00+00:00"):
    return {"brand": "volna", "alert_ids": alert_ids, "started_at": started,
            "last_seen_at": started, "state": "open", "posts": 6, "magnitude": 3.0,
            "period": "hour", "touchpoints": [], "products": [], "terms": [],
            "example_ids": [], "course": []}


def test_acknowledging_an_incident_acknowledges_all_its_alerts(db):
    first = _stored_alert(db, "volna/*/*", None, "2026-11-14T00:00:00+00:00")
    second = _stored_alert(db, "volna/*/billing", "billing", "2026-11-14T00:00:00+00:00")
    other = _stored_alert(db, "volna/*/network", "network", "2026-10-01T00:00:00+00:00")
    save_incidents(db, [_incident_of([first, second]), _incident_of([other], "2026-10-01")])
    incident_id = db.execute("SELECT incident_id FROM alerts WHERE id = ?", [first]).fetchone()[0]
    set_incident_status(db, incident_id, "acknowledged")
    statuses = dict(db.execute("SELECT id, status FROM alerts").fetchall())
    assert statuses == {first: "acknowledged", second: "acknowledged", other: "open"}
    # a slice that joins later is acknowledged with it; the person's decision is kept
    third = _stored_alert(db, "volna/*/support", "support", "2026-11-14T00:00:00+00:00")
    save_incidents(db, [_incident_of([first, second, third])])
    assert db.execute("SELECT status FROM alerts WHERE id = ?", [third]).fetchone()[0] \
        == "acknowledged"
    assert queries.incident(db, incident_id)["status"] == "acknowledged"
    with pytest.raises(store.StoreError, match="no incident 999"):
        set_incident_status(db, 999, "resolved")


def test_two_incidents_that_prove_one_keep_the_older_id(db):
    first = _stored_alert(db, "volna/*/onboarding", "onboarding", "2026-11-14T00:00:00+00:00")
    second = _stored_alert(db, "volna/*/digital", "digital", "2026-11-14T00:00:00+00:00")
    save_incidents(db, [_incident_of([first])])
    save_incidents(db, [_incident_of([second])])
    older, newer = (row[0] for row in db.execute("SELECT id FROM incidents ORDER BY id"))
    assert save_incidents(db, [_incident_of([first, second])]) == (0, 1)
    assert [row[0] for row in db.execute("SELECT id FROM incidents")] == [older]
    assert newer != older
