"""The right to be forgotten: remove every trace of one author of one source, for good."""

from __future__ import annotations

import json

from sqlite_utils import Database

from store.db import StoreError
from store.erased import Erased, record
from store.identity import author_id, content_hash, fold_for_search
from store.mentions import utc_now


def erase_author(db: Database, source_id: str, handle: str) -> dict:
    """Delete an author, their mentions and everything derived from them, in one transaction,
    and keep them out of every later write.

    Tags, hits, corrections, history, cluster memberships, advocate scores and risk statuses
    go with them (``ON DELETE CASCADE``); full-text rows, their author roll-up rows, alert
    examples and cross-post links to their posts are removed explicitly. In other people's
    mentions of the source (and their history) quotes of their words are dropped and
    ``@handle`` / ``@Display Name`` is masked. The days they posted on are marked stale, so
    the roll-ups are rebuilt by the next refresh (``insights.daily.refresh``). Deleted
    content is overwritten and the search index merged; after the commit the space the rows
    held is rewritten (SQLite: ``VACUUM`` and an emptied WAL; PostgreSQL: ``VACUUM FULL`` of
    the tables that held them).

    Only the fact of the erasure with its counts, and keyed hashes of the handle and display
    name (``store.erased``), are kept. Returns the counts (``mentions``, ``quotes``,
    ``masked``) and ``file_cleared``: False if another connection kept the space from being
    rebuilt or its WAL from being emptied. Raises ``StoreError`` for an unknown author or
    while a transaction is open on ``db``.
    """
    if db.conn.in_transaction:
        raise StoreError("an erasure commits in a transaction of its own; "
                         "commit or roll back the open one first")
    identifier = author_id(source_id, handle)
    with db.overwriting_deletes(), db.atomic(alone="erasure"):
        counts = _erase(db, source_id, identifier, handle)
    return {**counts, "file_cleared": db.reclaim_space()}


def _erase(db: Database, source_id: str, identifier: str, handle: str) -> dict:
    row = db.execute("SELECT handle, display_name FROM authors WHERE id = ?",
                     [identifier]).fetchone()
    if row is None:
        raise StoreError(f"no author {handle!r} in source {source_id!r}")
    mentions = db.execute("SELECT id, seq FROM mentions WHERE author_id = ?",
                          [identifier]).fetchall()
    ids = {mention for mention, _ in mentions}
    for _, seq in mentions:
        db.execute("DELETE FROM mentions_fts WHERE rowid = ?", [seq])
    db.execute("DELETE FROM mentions WHERE author_id = ?", [identifier])
    db.execute("DELETE FROM authors WHERE id = ?", [identifier])
    db.execute("DELETE FROM author_days WHERE author_id = ?", [identifier])
    db.execute("DELETE FROM touchpoint_models")  # it keeps sentences it learned from
    db.execute("DELETE FROM sentiment_adapters")  # fitted on labels of their posts
    erased = record(db, source_id, row[0], [row[1] or ""])
    quotes, masked = _scrub_mentions(db, erased)
    _scrub_history(db, erased)
    _drop_alert_examples(db, ids)
    for mention in ids:
        db.execute("UPDATE mentions SET duplicate_of = NULL WHERE duplicate_of = ?", [mention])
    db.optimize_search_index()
    counts = {"mentions": len(ids), "quotes": quotes, "masked": masked}
    db.execute("INSERT INTO erasures (source_id, erased_at, counts) VALUES (?, ?, ?)",
               [source_id, utc_now(), json.dumps(counts)])
    return counts


def _may_name(alias: str) -> str:
    """SQL condition: rows of ``alias`` whose quotes, text or title may name someone."""
    return (f"({alias}.quotes != '[]' OR instr({alias}.text, '@') > 0 "
            f"OR instr(coalesce({alias}.title, ''), '@') > 0)")


def _scrubbed(erased: Erased, title: str | None, text: str, quotes_json: str):
    """``(title, text, quotes, quotes removed)`` as a later write would store them."""
    quotes = json.loads(quotes_json)
    kept = erased.quotes(quotes)
    return erased.mask(title), erased.mask(text), kept, len(quotes) - len(kept)


def _scrub_mentions(db: Database, erased: Erased) -> tuple[int, int]:
    """Clean other people's mentions of the source; returns (quotes removed, mentions
    whose text or title was masked). Their full-text rows, content hashes (so a re-crawl
    finds them unchanged) and the evidence of their tags and hits follow."""
    removed = masked = 0
    rows = db.execute(f"SELECT m.id, m.seq, m.title, m.text, m.quotes FROM mentions m "
                      f"WHERE m.source_id = ? AND {_may_name('m')}",
                      [erased.source_id]).fetchall()
    for mention, seq, title, text, quotes_json in rows:
        new_title, new_text, quotes, dropped = _scrubbed(erased, title, text, quotes_json)
        new_quotes = json.dumps(quotes, ensure_ascii=False)
        if (new_title, new_text, new_quotes) == (title, text, quotes_json):
            continue
        removed += dropped
        masked += (new_title, new_text) != (title, text)
        db.execute("UPDATE mentions SET title = ?, text = ?, quotes = ?, content_hash = ? "
                   "WHERE id = ?",
                   [new_title, new_text, new_quotes, content_hash(new_title, new_text, quotes),
                    mention])
        db.execute("DELETE FROM mentions_fts WHERE rowid = ?", [seq])
        db.execute("INSERT INTO mentions_fts (rowid, title, text) VALUES (?, ?, ?)",
                   [seq, fold_for_search(new_title or ""), fold_for_search(new_text)])
        _mask_evidence(db, erased, mention)
    return removed, masked


def _scrub_history(db: Database, erased: Erased) -> None:
    rows = db.execute(
        f"""SELECT h.id, h.title, h.text, h.quotes FROM mention_history h
            JOIN mentions m ON m.id = h.mention_id
            WHERE m.source_id = ? AND {_may_name('h')}""",
        [erased.source_id]).fetchall()
    for row_id, title, text, quotes_json in rows:
        new_title, new_text, quotes, _ = _scrubbed(erased, title, text, quotes_json)
        new_quotes = json.dumps(quotes, ensure_ascii=False)
        if (new_title, new_text, new_quotes) != (title, text, quotes_json):
            db.execute("UPDATE mention_history SET title = ?, text = ?, quotes = ? WHERE id = ?",
                       [new_title, new_text, new_quotes, row_id])


def _mask_evidence(db: Database, erased: Erased, mention: str) -> None:
    """Evidence quoted from a masked mention, in its tags and hits, masked alike."""
    for table, key in (("tags", "name"), ("hits", "id")):
        for row_key, evidence in db.execute(
                f"SELECT {key}, evidence FROM {table} WHERE mention_id = ? "
                "AND instr(evidence, '@') > 0", [mention]).fetchall():
            masked = erased.mask(evidence)
            if masked != evidence:
                db.execute(f"UPDATE {table} SET evidence = ? WHERE mention_id = ? AND {key} = ?",
                           [masked, mention, row_key])


def _drop_alert_examples(db: Database, mention_ids: set[str]) -> None:
    """The erased posts out of the examples alerts and incidents quote."""
    if not mention_ids:
        return
    for table in ("alerts", "incidents"):
        for row_id, examples_json in db.execute(f"SELECT id, example_ids FROM {table}").fetchall():
            examples = json.loads(examples_json)
            kept = [example for example in examples if example not in mention_ids]
            if len(kept) != len(examples):
                db.execute(f"UPDATE {table} SET example_ids = ? WHERE id = ?",
                           [json.dumps(kept), row_id])
