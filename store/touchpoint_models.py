"""The learned touchpoint model of a store, its review queue and what it learns from."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from store.corrections import latest_labels
from store.mentions import utc_now


@dataclass(frozen=True)
class StoredModel:
    fingerprint: str
    version: str
    corpus: int  # how many mentions the store held when it was fitted
    fitted_at: str
    blob: bytes


@dataclass(frozen=True)
class SentenceLabel:
    """The latest touchpoint label a person gave a mention (``sentence`` None) or one of its
    sentences: a touchpoint id or ``none``."""

    mention_id: str
    sentence: int | None
    touchpoint: str
    text: str  # the mention's text


def stored_model(db: Database) -> StoredModel | None:
    """The store's touchpoint model, if one was fitted."""
    row = db.execute("SELECT fingerprint, version, corpus, fitted_at, model "
                     "FROM touchpoint_models WHERE id = 1").fetchone()
    return StoredModel(*row) if row else None


def save_model(db: Database, fingerprint: str, version: str, corpus: int, blob: bytes,
               queue: list[tuple[str, int, str, str, float]]) -> None:
    """Replace the store's model and its review queue (``(mention_id, sentence, text,
    touchpoint, probability)``, most useful first) in one transaction."""
    with db.atomic():
        db.execute(
            """INSERT INTO touchpoint_models (id, fingerprint, version, corpus, fitted_at, model)
               VALUES (1, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint,
                 version = excluded.version, corpus = excluded.corpus,
                 fitted_at = excluded.fitted_at, model = excluded.model""",
            [fingerprint, version, corpus, utc_now(), blob])
        db.execute("DELETE FROM review_queue")
        db.conn.executemany(
            """INSERT OR IGNORE INTO review_queue (mention_id, sentence, text, touchpoint,
                                                   probability, rank)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(*item, rank) for rank, item in enumerate(queue)])


def mention_count(db: Database) -> int:
    """Mentions that are not cross-posts of another."""
    return db.execute("SELECT count(*) FROM mentions WHERE duplicate_of IS NULL").fetchone()[0]


def corpus_sample(db: Database, limit: int) -> list[tuple[str, str]]:
    """``(mention_id, text)`` of up to ``limit`` mentions, the same sample for the same posts
    whatever order they were stored in (ids are digests of source and URL)."""
    return db.execute(
        """SELECT id, text FROM mentions WHERE duplicate_of IS NULL
            ORDER BY id LIMIT ?""", [limit]).fetchall()


def sentence_labels(db: Database) -> list[SentenceLabel]:
    """The latest touchpoint label of each mention and sentence people labelled."""
    return [SentenceLabel(*row) for row in latest_labels(db, "touchpoint")]


def review_queue(db: Database, touchpoint: str | None = None, limit: int = 20) -> list[dict]:
    """Sentences waiting for a person's label, most useful first, without those labelled
    since the queue was made."""
    where = "AND q.touchpoint = ?" if touchpoint else ""
    rows = db.execute(
        f"""SELECT q.mention_id, q.sentence, q.text, q.touchpoint, q.probability, m.url
            FROM review_queue q JOIN mentions m ON m.id = q.mention_id
            WHERE NOT EXISTS (SELECT 1 FROM corrections c WHERE c.mention_id = q.mention_id
                              AND c.field = 'touchpoint' AND c.sentence = q.sentence) {where}
            ORDER BY q.rank LIMIT ?""",
        [touchpoint, limit] if touchpoint else [limit]).fetchall()
    keys = ("mention_id", "sentence", "text", "touchpoint", "probability", "url")
    return [dict(zip(keys, row, strict=True)) for row in rows]
