"""What the alert webhook was sent: the alerts to consider with their last delivered state,
the posts they quote, and each delivery attempt."""

from __future__ import annotations

import json

from sqlite_utils import Database

from store.mentions import utc_now


def alerts_for_delivery(db: Database, seen_since: str) -> list[dict]:
    """Alerts that may need posting: every alert already posted once, and the others last
    seen at or after ``seen_since``; each with ``sent``, the furthest state delivered
    (``{"phase", "observed"}``, an ended state beyond any open one), or None."""
    rows = db.execute(
        """SELECT a.id, a.key, a.brand, a.product, a.touchpoint, a.source_id, a.started_at,
                  a.last_seen_at, a.status, a.magnitude, a.baseline, a.terms, a.example_ids,
                  a.details,
                  (SELECT json_object('phase', d.phase, 'observed', d.observed)
                     FROM webhook_deliveries d WHERE d.alert_id = a.id AND d.status = 'sent'
                     ORDER BY d.phase = 'ended' DESC, d.observed DESC LIMIT 1) AS sent
           FROM alerts a
           WHERE a.last_seen_at >= ?
              OR EXISTS (SELECT 1 FROM webhook_deliveries d
                         WHERE d.alert_id = a.id AND d.status = 'sent')
           ORDER BY a.started_at, a.id""",
        [seen_since],
    )
    columns = [column[0] for column in rows.description]
    alerts = []
    for row in rows.fetchall():
        alert = dict(zip(columns, row, strict=True))
        alert["sent"] = json.loads(alert["sent"]) if alert["sent"] else None
        alerts.append(alert)
    return alerts


def example_posts(db: Database, mention_ids: list[str]) -> list[dict]:
    """``{"id", "text", "url"}`` of the given mentions, in the order asked (missing skipped)."""
    rows = db.execute(
        "SELECT id, text, url FROM mentions WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(mention_ids))],
    ).fetchall()
    found = {mention: {"id": mention, "text": text, "url": url} for mention, text, url in rows}
    return [found[mention] for mention in mention_ids if mention in found]


def record_delivery(db: Database, alert_id: int, phase: str, observed: float, event: str,
                    error: str | None = None) -> None:
    """Record one attempt to post an alert's state: sent when ``error`` is None, else failed
    (a later attempt at the same state counts up and replaces the error)."""
    with db.atomic():
        db.execute(
            """INSERT INTO webhook_deliveries
                   (alert_id, phase, observed, event, status, attempts, error, sent_at)
               VALUES (?, ?, ?, ?, ?, 1, ?, ?)
               ON CONFLICT (alert_id, phase, observed) DO UPDATE SET
                   event = excluded.event, status = excluded.status,
                   attempts = attempts + 1, error = excluded.error, sent_at = excluded.sent_at""",
            [alert_id, phase, observed, event, "failed" if error else "sent", error, utc_now()],
        )
