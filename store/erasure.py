"""The right to be forgotten: remove every trace of one author of one source."""

from __future__ import annotations

import json

from sqlite_utils import Database

from store.db import StoreError
from store.identity import author_id
from store.mentions import utc_now


def erase_author(db: Database, source_id: str, handle: str) -> dict:
    """Delete an author, their mentions and everything derived from them, in one transaction.

    Tags, hits, corrections, history, cluster memberships, advocate scores and risk statuses
    go with them (``ON DELETE CASCADE``); full-text rows, alert examples, cross-post links to
    their posts and quotes of their words inside other people's posts are removed explicitly.
    Only the fact that an erasure happened, with counts, is recorded. Raises ``StoreError``
    for an unknown author.
    """
    identifier = author_id(source_id, handle)
    with db.atomic():
        row = db.execute(
            "SELECT handle, display_name FROM authors WHERE id = ?", [identifier]
        ).fetchone()
        if row is None:
            raise StoreError(f"no author {handle!r} in source {source_id!r}")
        names = {name.casefold() for name in row if name}
        mentions = db.execute(
            "SELECT id, seq FROM mentions WHERE author_id = ?", [identifier]
        ).fetchall()
        ids = {mention for mention, _ in mentions}
        for _, seq in mentions:
            db.execute("DELETE FROM mentions_fts WHERE rowid = ?", [seq])
        db.execute("DELETE FROM mentions WHERE author_id = ?", [identifier])
        db.execute("DELETE FROM authors WHERE id = ?", [identifier])
        quotes_removed = _drop_quotes_by(db, source_id, names)
        _drop_alert_examples(db, ids)
        for mention in ids:
            db.execute("UPDATE mentions SET duplicate_of = NULL WHERE duplicate_of = ?", [mention])
        counts = {"mentions": len(ids), "quotes": quotes_removed}
        db.execute(
            "INSERT INTO erasures (source_id, erased_at, counts) VALUES (?, ?, ?)",
            [source_id, utc_now(), json.dumps(counts)],
        )
    return counts


QUOTED_ROWS = {
    "mentions": "SELECT id, quotes FROM mentions WHERE source_id = ? AND quotes != '[]'",
    "mention_history": """SELECT h.id, h.quotes FROM mention_history h
        JOIN mentions m ON m.id = h.mention_id WHERE m.source_id = ? AND h.quotes != '[]'""",
}


def _drop_quotes_by(db: Database, source_id: str, names: set[str]) -> int:
    """Remove quotes attributed to the erased author from other mentions and their history."""
    removed = 0
    for table, select in QUOTED_ROWS.items():
        for row_id, quotes_json in db.execute(select, [source_id]).fetchall():
            quotes = json.loads(quotes_json)
            kept = [q for q in quotes if (q.get("author") or "").casefold() not in names]
            if len(kept) == len(quotes):
                continue
            if table == "mentions":
                removed += len(quotes) - len(kept)
            db.execute(
                f"UPDATE {table} SET quotes = ? WHERE id = ?",
                [json.dumps(kept, ensure_ascii=False), row_id],
            )
    return removed


def _drop_alert_examples(db: Database, mention_ids: set[str]) -> None:
    if not mention_ids:
        return
    for alert, examples_json in db.execute("SELECT id, example_ids FROM alerts").fetchall():
        examples = json.loads(examples_json)
        kept = [example for example in examples if example not in mention_ids]
        if len(kept) != len(examples):
            db.execute(
                "UPDATE alerts SET example_ids = ? WHERE id = ?", [json.dumps(kept), alert]
            )
