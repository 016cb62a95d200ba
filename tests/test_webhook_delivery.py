"""Incidents posted by ``otklik analyze``: one message per incident, each change once, to a
real server on 127.0.0.1."""

import json
from datetime import UTC, datetime

import pytest
from test_insights import NOW, incident_db  # noqa: F401  (a fixture)
from test_webhook import endpoint  # noqa: F401  (a fixture)
from typer.testing import CliRunner

from cli import app
from config.catalogue import load_catalogue
from insights.analyze import analyze as run_analysis
from insights.cluster_steps import TfidfEmbedder
from insights.clustering import ClusterPipeline
from insights.webhook import WebhookTarget, deliver_incidents
from store.incidents import save_incidents
from store.insights import upsert_alert

pytestmark = pytest.mark.both_backends

KEY = "volna/*/billing"


def analyze(db, target):
    """The analysis with TF-IDF vectors for clustering, posting alerts to ``target``."""
    return run_analysis(db, load_catalogue(), NOW, webhook=target,
                        pipeline=ClusterPipeline(embed=TfidfEmbedder()))


def _incident(db, posts, ongoing=True, last_seen="2026-11-20T09:00:00+00:00"):
    """An incident of one billing alert holding ``posts`` negative posts; its id."""
    started = "2026-11-20T06:00:00+00:00"
    fields = {"brand": "volna", "touchpoint": "billing", "started_at": started,
              "last_seen_at": last_seen, "magnitude": posts / 4, "baseline": 4.0,
              "ongoing": ongoing, "terms": [{"term": "списали", "score": 3.0}],
              "details": {"observed": posts}}
    alert_id = upsert_alert(db, KEY, fields)[0]
    save_incidents(db, [{
        "brand": "volna", "alert_ids": [alert_id], "started_at": started,
        "last_seen_at": last_seen, "state": "open" if ongoing else "ended", "posts": posts,
        "magnitude": posts / 4, "period": "hour", "products": [], "example_ids": [],
        "touchpoints": [{"touchpoint": "billing", "posts": posts, "share": 1.0,
                         "baseline_share": 0.1, "score": 2.3}],
        "terms": fields["terms"], "course": []}])
    return db.execute("SELECT incident_id FROM alerts WHERE id = ?", [alert_id]).fetchone()[0]


def _texts(server):
    return [json.loads(body)["text"] for _, _, body in server.posts]


def _deliveries(db):
    return db.execute("SELECT phase, observed, event, status, attempts, error "
                      "FROM incident_deliveries ORDER BY sent_at, observed").fetchall()


def test_analyze_posts_one_message_per_incident_and_a_rerun_sends_nothing(
        incident_db, endpoint):  # noqa: F811
    server = endpoint()
    target = WebhookTarget(server.url, "telegram", chat_id="-100", retry_delay=0)
    counts = analyze(incident_db, target)
    alerts = incident_db.execute("SELECT count(*) FROM alerts").fetchone()[0]
    incidents = incident_db.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert alerts >= 2 and incidents == 1  # the brand's alert and billing's: one incident
    assert counts["webhook_sent"] == len(server.posts) == incidents
    assert counts["webhook_failed"] == 0
    billing = [text for text in _texts(server) if "volna / billing" in text]
    assert len(billing) == 1
    assert billing[0].startswith("<b>Negative spike: volna / billing</b>")
    assert "<blockquote>Волна списала деньги дважды" in billing[0]
    assert all(json.loads(body)["chat_id"] == "-100" for _, _, body in server.posts)
    again = analyze(incident_db, target)
    assert again["webhook_sent"] == again["webhook_failed"] == 0
    assert len(server.posts) == incidents
    assert "Slices (2)" in billing[0] and "volna/*/billing 30" in billing[0]


def test_grown_and_ended_incident_is_posted_again_once(db, endpoint):  # noqa: F811
    server = endpoint()
    target = WebhookTarget(server.url, "slack", retry_delay=0)
    first = _incident(db, 20)
    assert deliver_incidents(db, target, NOW)["sent"] == 1
    _incident(db, 24, last_seen="2026-11-20T10:00:00+00:00")  # a little more: nothing to say
    assert deliver_incidents(db, target, NOW)["sent"] == 0
    _incident(db, 45, last_seen="2026-11-20T11:00:00+00:00")
    assert deliver_incidents(db, target, NOW)["sent"] == 1
    assert _incident(db, 45, ongoing=False, last_seen="2026-11-20T11:00:00+00:00") == first
    assert deliver_incidents(db, target, NOW)["sent"] == 1
    assert deliver_incidents(db, target, NOW)["sent"] == 0
    titles = [text.split(" (")[0] for text in _texts(server)]
    assert titles == ["Negative spike: volna / billing",
                      "Negative spike growing: volna / billing",
                      "Negative spike over: volna / billing"]
    assert [row[:4] for row in _deliveries(db)] == [
        ("open", 20.0, "opened", "sent"), ("open", 45.0, "grown", "sent"),
        ("ended", 45.0, "ended", "sent")]


def test_an_alert_posted_before_incidents_is_not_announced_again(db, endpoint):  # noqa: F811
    server = endpoint()
    target = WebhookTarget(server.url, "slack", retry_delay=0)
    incident_id = _incident(db, 20)
    db.execute("""INSERT INTO webhook_deliveries (alert_id, phase, observed, event, status,
                  sent_at) SELECT id, 'open', 20, 'opened', 'sent', '2026-11-20T07:00:00'
                  FROM alerts WHERE incident_id = ?""", [incident_id])
    assert deliver_incidents(db, target, NOW)["sent"] == 0
    _incident(db, 45, last_seen="2026-11-20T11:00:00+00:00")
    assert deliver_incidents(db, target, NOW)["sent"] == 1
    assert _texts(server)[0].startswith("Negative spike growing: volna / billing")


def test_failed_post_stays_pending_and_the_next_run_delivers_it(db, endpoint, caplog):  # noqa: F811
    server = endpoint([(500, "boom"), (500, "boom again")])
    target = WebhookTarget(server.url, "slack", retry_delay=0)
    incident_id = _incident(db, 20)
    assert deliver_incidents(db, target, NOW) == {"sent": 0, "failed": 1, "payloads": []}
    assert len(server.posts) == 2  # the post and its one retry
    assert "HTTP 500" in caplog.text and f"incident {incident_id}" in caplog.text
    assert _deliveries(db)[0][3:5] == ("failed", 1)
    assert "boom again" in _deliveries(db)[0][5]
    assert deliver_incidents(db, target, NOW) == {"sent": 1, "failed": 0, "payloads": []}
    assert _deliveries(db) == [("open", 20.0, "opened", "sent", 2, None)]
    assert deliver_incidents(db, target, NOW)["sent"] == 0
    assert len(server.posts) == 3


def test_unreachable_webhook_does_not_stop_analyze(incident_db, endpoint):  # noqa: F811
    server = endpoint([(503, "down")] * 100)
    target = WebhookTarget(server.url, "slack", retry_delay=0)
    counts = analyze(incident_db, target)
    assert counts["webhook_sent"] == 0 and counts["webhook_failed"] >= 1
    assert counts["clusters"] >= 1
    assert incident_db.execute("SELECT count(*) FROM incidents").fetchone()[0] \
        == counts["webhook_failed"]


def test_old_incidents_are_not_posted_when_a_webhook_is_first_set(db, endpoint):  # noqa: F811
    server = endpoint()
    _incident(db, 20, ongoing=False, last_seen="2026-10-01T09:00:00+00:00")
    later = datetime(2026, 10, 30, tzinfo=UTC)
    assert deliver_incidents(db, WebhookTarget(server.url, retry_delay=0), later)["sent"] == 0
    assert server.posts == []


def test_dry_run_prints_json_payloads_and_posts_nothing(db_path, db, endpoint):  # noqa: F811
    server = endpoint()
    _incident(db, 20)
    result = CliRunner().invoke(app, [
        "analyze", "--db", str(db_path), "--as-of", NOW.isoformat(), "--webhook", server.url,
        "--webhook-format", "telegram", "--telegram-chat", "42", "--dry-run-webhook"])
    assert result.exit_code == 0, result.output
    messages = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert len(messages) == 1
    assert messages[0]["chat_id"] == "42"
    assert messages[0]["text"].startswith("<b>Negative spike: volna / billing</b>")
    assert server.posts == [] and _deliveries(db) == []
    assert "1 incident message(s) printed, none posted" in result.output


def test_webhook_options_are_checked_with_a_clear_error(db_path, monkeypatch):
    monkeypatch.setenv("OTKLIK_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    result = CliRunner().invoke(app, ["analyze", "--db", str(db_path),
                                      "--webhook-format", "telegram"])
    assert "needs a chat id" in str(result.exception)  # main() prints it as one line
    result = CliRunner().invoke(app, ["analyze", "--db", str(db_path), "--webhook", "ftp://x",
                                      "--dry-run-webhook"])
    assert "must be http:// or https://" in str(result.exception)
