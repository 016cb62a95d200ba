"""Incidents and their slices (alerts): the posts of each alert, the incidents the grouping
finds, kept under stable ids across runs, a person's decision on one, and what the webhook
was sent about each."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from sqlite_utils import Database

from store.db import StoreError
from store.insights import ALERT_STATUSES
from store.mentions import utc_now

INCIDENT_COLUMNS = ("brand", "started_at", "last_seen_at", "state", "posts", "magnitude",
                    "period", "touchpoints", "products", "terms", "example_ids", "course")
# Integer ids given as one JSON array parameter, and an alert's observed count.
IDS = "(SELECT CAST(value AS INTEGER) FROM json_each(?))"
OBSERVED = "CAST(json_extract(details, '$.observed') AS DOUBLE PRECISION)"
_JSON_COLUMNS = ("touchpoints", "products", "terms", "example_ids", "course")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def alert_slices(db: Database, alert_ids: Iterable[int] | None = None) -> list[dict]:
    """Alerts as the grouping reads them (every one, or those given and those in no incident
    yet): their columns with ``details`` and ``terms`` decoded and ``posts``, the ids of
    their stored posts."""
    where, params = "", []
    if alert_ids is not None:
        where = f"WHERE a.id IN {IDS} OR a.incident_id IS NULL"
        params = [json.dumps(sorted(alert_ids))]
    rows = db.execute(
        f"""SELECT a.id, a.brand, a.product, a.touchpoint, a.started_at, a.last_seen_at,
                   a.status, a.baseline, a.terms, a.details,
                   (SELECT json_group_array(p.mention_id) FROM alert_posts p
                    WHERE p.alert_id = a.id) AS posts
            FROM alerts a {where} ORDER BY a.id""", params)
    columns = [column[0] for column in rows.description]
    out = []
    for row in rows.fetchall():
        alert = dict(zip(columns, row, strict=True))
        for column in ("terms", "details", "posts"):
            alert[column] = json.loads(alert[column] or "[]")
        out.append(alert)
    return out


def save_incidents(db: Database, incidents: Iterable[dict]) -> tuple[int, int]:
    """Write the incidents the grouping found; returns ``(created, updated)``.

    Each incident (the ``INCIDENT_COLUMNS`` plus ``alert_ids``) keeps the id its alerts
    carried: the stored incident most of them belong to. An incident that grew keeps its
    id; two that now prove one keep the older id and the other goes. A person's
    acknowledgement is kept (and passed to alerts that joined since); an incident that is
    over is resolved, as its alerts are.
    """
    incidents = sorted(incidents, key=lambda i: (-len(i["alert_ids"]), i["started_at"]))
    now = utc_now()
    created = updated = 0
    with db.atomic():
        wanted = json.dumps(sorted(a for i in incidents for a in i["alert_ids"]))
        current = dict(db.execute(
            f"SELECT id, incident_id FROM alerts WHERE id IN {IDS}",
            [wanted]).fetchall())
        taken: set[int] = set()
        for incident in incidents:
            votes = Counter(current[a] for a in incident["alert_ids"]
                            if current.get(a) is not None and current[a] not in taken)
            values = [_json(incident[c]) if c in _JSON_COLUMNS else incident[c]
                      for c in INCIDENT_COLUMNS]
            if votes:
                incident_id = min(votes, key=lambda i: (-votes[i], i))
                status = db.execute("SELECT status FROM incidents WHERE id = ?",
                                    [incident_id]).fetchone()[0]
                if incident["state"] == "ended":
                    status = "resolved"
                assignments = ", ".join(f"{c} = ?" for c in INCIDENT_COLUMNS)
                db.execute(f"UPDATE incidents SET {assignments}, status = ?, updated_at = ? "
                           "WHERE id = ?", [*values, status, now, incident_id])
                updated += 1
            else:
                status = "open" if incident["state"] == "open" else "resolved"
                columns = ", ".join(INCIDENT_COLUMNS)
                marks = ", ".join("?" for _ in INCIDENT_COLUMNS)
                (incident_id,) = db.execute(
                    f"INSERT INTO incidents ({columns}, status, created_at, updated_at) "
                    f"VALUES ({marks}, ?, ?, ?) RETURNING id",
                    [*values, status, now, now]).fetchone()
                created += 1
            taken.add(incident_id)
            db.execute("UPDATE alerts SET incident_id = ? WHERE id IN "
                       f"{IDS}",
                       [incident_id, json.dumps(incident["alert_ids"])])
            if status == "acknowledged":
                db.execute("UPDATE alerts SET status = 'acknowledged' "
                           "WHERE incident_id = ? AND status = 'open'", [incident_id])
        db.execute("""DELETE FROM incidents WHERE NOT EXISTS
                      (SELECT 1 FROM alerts a WHERE a.incident_id = incidents.id)""")
    return created, updated


def set_incident_status(db: Database, incident_id: int, status: str) -> None:
    """Acknowledge or resolve an incident and every alert of it (a person's decision);
    acknowledging leaves its resolved alerts resolved."""
    if status not in ALERT_STATUSES:
        raise StoreError(f"incident status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
    with db.atomic():
        if db.execute("UPDATE incidents SET status = ? WHERE id = ?",
                      [status, incident_id]).rowcount == 0:
            raise StoreError(f"no incident {incident_id}")
        keep = "AND status != 'resolved'" if status == "acknowledged" else ""
        db.execute(f"UPDATE alerts SET status = ? WHERE incident_id = ? {keep}",
                   [status, incident_id])


def incidents_for_delivery(db: Database, seen_since: str) -> list[dict]:
    """Incidents that may need posting: every one already posted, and the others last seen
    at or after ``seen_since``; each with its columns (JSON decoded), ``slices`` (its
    alerts: key, product, touchpoint, observed negatives) and ``sent``, the furthest state
    delivered (``{"phase", "observed"}``) or None. An incident never posted whose alerts
    were posted one by one (before incidents existed) counts as sent at their furthest
    state (the most negatives one of them was posted with)."""
    rows = db.execute(
        """SELECT i.*,
                  coalesce(
                    (SELECT json_object('phase', d.phase, 'observed', d.observed)
                     FROM incident_deliveries d WHERE d.incident_id = i.id AND d.status = 'sent'
                     ORDER BY d.phase = 'ended' DESC, d.observed DESC LIMIT 1),
                    (SELECT json_object('phase', d.phase, 'observed', d.observed)
                     FROM webhook_deliveries d JOIN alerts a ON a.id = d.alert_id
                     WHERE a.incident_id = i.id AND d.status = 'sent'
                     ORDER BY d.phase = 'ended' DESC, d.observed DESC LIMIT 1)) AS sent
           FROM incidents i
           WHERE i.last_seen_at >= ?
              OR EXISTS (SELECT 1 FROM incident_deliveries d
                         WHERE d.incident_id = i.id AND d.status = 'sent')
           ORDER BY i.started_at, i.id""", [seen_since])
    columns = [column[0] for column in rows.description]
    out = [dict(zip(columns, row, strict=True)) for row in rows.fetchall()]
    slices = incident_slices(db, [incident["id"] for incident in out])
    for incident in out:
        decode_incident(incident)
        incident["sent"] = json.loads(incident["sent"]) if incident["sent"] else None
        incident["slices"] = slices.get(incident["id"], [])
    return out


def incident_slices(db: Database, incident_ids: Iterable[int]) -> dict[int, list[dict]]:
    """Each incident's alerts, largest first: ``{id, key, product, touchpoint, observed,
    expected, magnitude, status, started_at, last_seen_at}``."""
    keys = ("incident_id", "id", "key", "product", "touchpoint", "observed", "expected",
            "magnitude", "status", "started_at", "last_seen_at")
    out: dict[int, list[dict]] = {}
    for row in db.execute(
            f"""SELECT incident_id, id, key, product, touchpoint,
                      {OBSERVED}, baseline, magnitude, status,
                      started_at, last_seen_at
               FROM alerts WHERE incident_id IN {IDS}
               ORDER BY {OBSERVED} DESC, key""",
            [json.dumps(list(incident_ids))]):
        entry = dict(zip(keys, row, strict=True))
        out.setdefault(entry.pop("incident_id"), []).append(entry)
    return out


def decode_incident(incident: dict) -> dict:
    """Decode an incident row's JSON columns in place; returns it."""
    for column in _JSON_COLUMNS:
        if isinstance(incident.get(column), str):
            incident[column] = json.loads(incident[column])
    return incident


def record_incident_delivery(db: Database, incident_id: int, phase: str, observed: float,
                             event: str, error: str | None = None) -> None:
    """Record one attempt to post an incident's state: sent when ``error`` is None, else
    failed (a later attempt at the same state counts up and replaces the error)."""
    with db.atomic():
        db.execute(
            """INSERT INTO incident_deliveries
                   (incident_id, phase, observed, event, status, attempts, error, sent_at)
               VALUES (?, ?, ?, ?, ?, 1, ?, ?)
               ON CONFLICT (incident_id, phase, observed) DO UPDATE SET
                   event = excluded.event, status = excluded.status,
                   attempts = incident_deliveries.attempts + 1, error = excluded.error,
                   sent_at = excluded.sent_at""",
            [incident_id, phase, observed, event, "failed" if error else "sent", error,
             utc_now()],
        )
