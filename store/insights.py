"""Writing what the insights stage finds: alerts, advocate scores, risk statuses, clusters."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlite_utils import Database

from store.db import StoreError
from store.mentions import utc_now

ALERT_STATUSES = ("open", "acknowledged", "resolved")
RISK_STATUSES = ("new", "contacted", "resolved")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def upsert_alert(db: Database, key: str, fields: dict) -> tuple[int, bool]:
    """Create or update the alert of one incident; returns ``(id, created)``.

    One incident is one alert: an open alert with the same ``key`` that started at the same
    time, or was last seen by the time this one starts, is updated while the incident lasts.
    A person's acknowledgement is kept; an incident that is over resolves its alert.
    ``mention_ids``, when given, are the negative posts inside its window (``alert_posts``).
    """
    with db.atomic():
        row = db.execute(
            """SELECT id, status FROM alerts WHERE key = ? AND (started_at = ?
               OR (status != 'resolved' AND last_seen_at >= ?))
               ORDER BY started_at DESC LIMIT 1""",
            [key, fields["started_at"], fields["started_at"]],
        ).fetchone()
        values = {
            "brand": fields.get("brand"), "product": fields.get("product"),
            "touchpoint": fields.get("touchpoint"), "source_id": fields.get("source_id"),
            "started_at": fields["started_at"], "last_seen_at": fields["last_seen_at"],
            "magnitude": fields.get("magnitude"), "baseline": fields.get("baseline"),
            "terms": _json(fields.get("terms", [])),
            "example_ids": _json(fields.get("example_ids", [])),
            "details": _json(fields.get("details", {})),
        }
        if row is None:
            values["status"] = "open" if fields.get("ongoing", True) else "resolved"
            columns = ", ".join(["key", *values])
            marks = ", ".join("?" for _ in range(len(values) + 1))
            (alert_id,) = db.execute(
                f"INSERT INTO alerts ({columns}) VALUES ({marks}) RETURNING id",
                [key, *values.values()]).fetchone()
        else:
            alert_id, status = row
            if not fields.get("ongoing", True):
                status = "resolved"
            values["status"] = status
            assignments = ", ".join(f"{column} = ?" for column in values)
            db.execute(f"UPDATE alerts SET {assignments} WHERE id = ?",
                       [*values.values(), alert_id])
        if fields.get("mention_ids") is not None:
            replace_alert_posts(db, alert_id, fields["mention_ids"])
        return alert_id, row is None


def replace_alert_posts(db: Database, alert_id: int, mention_ids) -> None:
    """The negative posts inside an alert's window (stored ones only)."""
    db.execute("DELETE FROM alert_posts WHERE alert_id = ?", [alert_id])
    db.execute(
        """INSERT OR IGNORE INTO alert_posts (alert_id, mention_id)
           SELECT ?, value FROM json_each(?) WHERE value IN (SELECT id FROM mentions)""",
        [alert_id, json.dumps(sorted(set(mention_ids)))])


def set_alert_status(db: Database, alert_id: int, status: str) -> None:
    """Acknowledge or resolve an alert (a person's decision)."""
    if status not in ALERT_STATUSES:
        raise StoreError(f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
    with db.atomic():
        if db.execute("UPDATE alerts SET status = ? WHERE id = ?",
                      [status, alert_id]).rowcount == 0:
            raise StoreError(f"no alert {alert_id}")


def replace_advocate_scores(db: Database, brand: str, scores: Iterable) -> int:
    """Replace a brand's advocate scores (objects with author_id, score, components)."""
    now = utc_now()
    rows = [(s.author_id, brand, s.score, _json(s.components), now) for s in scores]
    with db.atomic():
        db.execute("DELETE FROM advocate_scores WHERE brand = ?", [brand])
        db.conn.executemany("INSERT INTO advocate_scores VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def set_risk_status(db: Database, author_id: str, status: str, note: str | None = None) -> None:
    """Record where support stands with a customer at risk: new, contacted or resolved."""
    if status not in RISK_STATUSES:
        raise StoreError(f"status {status!r} is not one of {', '.join(RISK_STATUSES)}")
    with db.atomic():
        if not db.execute("SELECT 1 FROM authors WHERE id = ?", [author_id]).fetchone():
            raise StoreError(f"no author {author_id!r}")
        db.execute(
            """INSERT INTO risk_status (author_id, status, note, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (author_id) DO UPDATE SET status = excluded.status,
               note = coalesce(excluded.note, risk_status.note),
               updated_at = excluded.updated_at""",
            [author_id, status, note, utc_now()],
        )


def replace_clusters(db: Database, clusters: Iterable[dict]) -> int:
    """Replace the complaint themes and clusters: each ``{id, label, title, terms, size,
    details, members, parent_id}`` with members ``[(mention_id, score, representative)]``;
    ``parent_id`` names the theme of a cluster (a sub-theme), ``None`` for a theme. Ids kept
    across runs keep their creation time. Returns the rows written (themes and clusters)."""
    now = utc_now()
    created = dict(db.execute("SELECT id, created_at FROM clusters").fetchall())
    count = 0
    with db.atomic():
        db.execute("DELETE FROM cluster_members")
        db.execute("DELETE FROM clusters")
        for cluster in sorted(clusters, key=lambda c: c.get("parent_id") is not None):
            db.execute(
                """INSERT INTO clusters (id, label, title, terms, size, details, parent_id,
                                         created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [cluster["id"], cluster["label"], cluster.get("title"),
                 _json(cluster.get("terms", [])), cluster["size"],
                 _json(cluster.get("details", {})), cluster.get("parent_id"),
                 created.get(cluster["id"], now), now],
            )
            db.conn.executemany(
                "INSERT INTO cluster_members VALUES (?, ?, ?, ?)",
                [(cluster["id"], mention, score, int(representative))
                 for mention, score, representative in cluster["members"]],
            )
            count += 1
    return count
