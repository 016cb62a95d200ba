from types import SimpleNamespace

import pytest

import store
from store.insights import (
    replace_advocate_scores,
    replace_clusters,
    set_alert_status,
    set_risk_status,
    upsert_alert,
)

pytestmark = pytest.mark.both_backends

INCIDENT = {"started_at": "2026-11-14T00:00:00+00:00", "last_seen_at": "2026-11-15T00:00:00+00:00",
            "brand": "volna", "touchpoint": "billing", "magnitude": 6.0, "ongoing": True,
            "terms": [{"term": "вернуть"}], "example_ids": ["a"]}


def test_one_incident_is_one_alert_updated_while_it_lasts(db):
    first, created = upsert_alert(db, "volna/*/billing", INCIDENT)
    assert created
    set_alert_status(db, first, "acknowledged")
    later = {**INCIDENT, "last_seen_at": "2026-11-16T00:00:00+00:00", "magnitude": 8.0}
    again, created = upsert_alert(db, "volna/*/billing", later)
    assert (again, created) == (first, False)
    row = db.execute("SELECT status, last_seen_at, magnitude FROM alerts").fetchone()
    assert row == ("acknowledged", "2026-11-16T00:00:00+00:00", 8.0)
    over = {**later, "ongoing": False}
    upsert_alert(db, "volna/*/billing", over)
    assert db.execute("SELECT status FROM alerts").fetchone()[0] == "resolved"
    next_one = {**INCIDENT, "started_at": "2026-12-01T00:00:00+00:00",
                "last_seen_at": "2026-12-02T00:00:00+00:00"}
    assert upsert_alert(db, "volna/*/billing", next_one)[1]
    with pytest.raises(store.StoreError, match="alert status 'done' is not one of"):
        set_alert_status(db, first, "done")


def test_risk_status_and_scores_and_clusters(db, make_mention):
    store.upsert_mention(db, make_mention())
    author = store.author_id("forum", "ivan_petrov")
    set_risk_status(db, author, "contacted", "called on Monday")
    set_risk_status(db, author, "resolved")
    assert db.execute("SELECT status, note FROM risk_status").fetchone() == (
        "resolved", "called on Monday")
    with pytest.raises(store.StoreError, match="status 'lost' is not one of"):
        set_risk_status(db, author, "lost")
    score = SimpleNamespace(author_id=author, score=77.5, components={"positive": 10})
    assert replace_advocate_scores(db, "volna", [score]) == 1
    assert replace_advocate_scores(db, "volna", [score]) == 1
    mention = store.mention_id("forum", make_mention()["url"])
    cluster = {"id": "c1", "label": "refund", "size": 1, "members": [(mention, 0.1, True)]}
    replace_clusters(db, [cluster])
    created = db.execute("SELECT created_at FROM clusters").fetchone()[0]
    replace_clusters(db, [{**cluster, "label": "refund delays"}])
    assert db.execute("SELECT label, created_at FROM clusters").fetchone() == (
        "refund delays", created)
