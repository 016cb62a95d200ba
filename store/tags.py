"""Tags on mentions: what is still to tag, and writing tags with their model version."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from store.mentions import utc_now


@dataclass(frozen=True)
class Tag:
    """One tag of one mention: e.g. ``language = uk`` with its score and evidence."""

    mention_id: str
    name: str
    value: str | None
    score: float | None
    model: str
    model_version: str
    content_hash: str
    evidence: dict | None = None


@dataclass(frozen=True)
class HitRecord:
    """An entity, touchpoint or intent found in a mention, with its evidence."""

    kind: str  # brand, product, competitor, touchpoint, intent, entity
    key: str
    label: str | None = None
    sentiment: str | None = None
    confidence: float | None = None
    start: int | None = None
    end: int | None = None
    evidence: str | None = None
    method: str | None = None
    sentence: int | None = None
    extra: dict | None = None


# Mentions with no ``name`` tag from this model version on their current text: untagged,
# edited since, or tagged by older models or another catalogue. One query, read whole to
# count what is left and, with ``NOT EXISTS`` a claim, to claim batches (store.claims).
PENDING = """FROM mentions m LEFT JOIN tags t ON t.mention_id = m.id AND t.name = ?
    WHERE (t.mention_id IS NULL OR t.model_version != ? OR t.content_hash != m.content_hash)"""
# batches hold texts of similar length, the same batches whatever order the posts came in
SHORTEST_FIRST = "ORDER BY length(m.text), m.id"


def count_pending(db: Database, name: str, model_version: str) -> int:
    """How many mentions have no ``name`` tag from ``model_version`` on their current text
    (claimed ones included: they are not done yet)."""
    return db.execute(f"SELECT count(*) {PENDING}", [name, model_version]).fetchone()[0]


def write_tags(db: Database, tags: Iterable[Tag]) -> int:
    """Write (or replace) tags in one transaction; returns how many were written."""
    written = 0
    now = utc_now()
    with db.atomic():
        for tag in tags:
            db.execute(
                """INSERT INTO tags (mention_id, name, value, score, model, model_version,
                                     content_hash, evidence, tagged_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (mention_id, name) DO UPDATE SET value = excluded.value,
                     score = excluded.score, model = excluded.model,
                     model_version = excluded.model_version,
                     content_hash = excluded.content_hash, evidence = excluded.evidence,
                     tagged_at = excluded.tagged_at""",
                [tag.mention_id, tag.name, tag.value, tag.score, tag.model, tag.model_version,
                 tag.content_hash,
                 json.dumps(tag.evidence, ensure_ascii=False) if tag.evidence else None, now],
            )
            if tag.name == "language":
                db.execute("UPDATE mentions SET language = ? WHERE id = ?",
                           [tag.value, tag.mention_id])
            written += 1
    return written


def write_mention_tags(
    db: Database, mention_id: str, tags: list[Tag], hits: list[HitRecord], model_version: str
) -> None:
    """Replace one mention's tags (those named in ``tags``) and all its hits, atomically."""
    with db.atomic():
        write_tags(db, tags)
        db.execute("DELETE FROM hits WHERE mention_id = ?", [mention_id])
        db.conn.executemany(
            """INSERT INTO hits (mention_id, kind, key, label, sentiment, confidence, start, "end",
                                 evidence, method, model_version, sentence, extra)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(mention_id, h.kind, h.key, h.label, h.sentiment, h.confidence, h.start, h.end,
              h.evidence, h.method, model_version, h.sentence,
              json.dumps(h.extra or {}, ensure_ascii=False, default=str)) for h in hits],
        )
