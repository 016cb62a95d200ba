"""Embedding vectors per mention (float32), written by the tagger, read by insights."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from sqlite_utils import Database


def write_embeddings(db: Database, model: str, rows: Iterable[tuple[str, np.ndarray]]) -> int:
    """Store ``(mention_id, vector)`` pairs for ``model`` in one transaction; returns count."""
    records = [(mention, model, int(vector.shape[0]),
                np.asarray(vector, dtype="<f4").tobytes()) for mention, vector in rows]
    with db.atomic():
        db.conn.executemany(
            """INSERT INTO embeddings (mention_id, model, dim, vector) VALUES (?, ?, ?, ?)
               ON CONFLICT (mention_id, model) DO UPDATE SET dim = excluded.dim,
               vector = excluded.vector""",
            records,
        )
    return len(records)


def load_embeddings(
    db: Database, model: str, mention_ids: list[str] | None = None
) -> tuple[list[str], np.ndarray]:
    """Mention ids and their vectors (one row each) for ``model``; all, or those asked for."""
    sql = "SELECT mention_id, dim, vector FROM embeddings WHERE model = ?"
    params: list = [model]
    if mention_ids is not None:
        if not mention_ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        with db.atomic():  # committed here: no transaction is left open behind a read
            db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted_ids (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM wanted_ids")
            db.conn.executemany("INSERT OR IGNORE INTO wanted_ids VALUES (?)",
                                [(m,) for m in mention_ids])
        sql += " AND mention_id IN (SELECT id FROM wanted_ids)"
    rows = db.execute(sql + " ORDER BY mention_id", params).fetchall()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    ids = [row[0] for row in rows]
    matrix = np.vstack([np.frombuffer(row[2], dtype="<f4") for row in rows])
    return ids, matrix
