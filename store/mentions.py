"""Writing mentions: idempotent upserts with edit history and full-text rows."""

from __future__ import annotations

import json
import logging
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlite_utils import Database

from store.db import StoreError
from store.erased import erased_of
from store.erased import refresh as refresh_erased
from store.identity import (
    author_id,
    canonical_url,
    content_hash,
    fold_for_search,
    mention_id,
    without_session,
)
from store.textcheck import became_garbled, looks_garbled

logger = logging.getLogger(__name__)

MENTION_KINDS = ("post", "comment", "review", "article", "reply")
ENGAGEMENT_FIELDS = ("likes", "replies", "views")


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string, the one time format of the store."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def upsert_source(db: Database, source_id: str, kind: str, url: str = "", title: str = "") -> None:
    """Record a source (a forum, feed, channel…) once; later calls refresh its url and title."""
    with db.atomic():
        db.execute(
            """INSERT INTO sources (id, kind, url, title, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, url = excluded.url,
               title = excluded.title""",
            [source_id, kind, url, title, utc_now()],
        )


# Per open database: the sources it has stored or found, so that a post does not ask again,
# and the authors (with the name and profile) the open transaction has written already.
_KNOWN_SOURCES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_AUTHORS_WRITTEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def upsert_mention(db: Database, mention: Mapping) -> str:
    """Store one mention; returns ``"inserted"``, ``"updated"`` (edited), ``"unchanged"``,
    ``"suppressed"`` (its author was erased: nothing is stored) or
    ``"refused"`` (an edit that would garble the stored words or change the post's author,
    see :func:`refused_edit`; the stored row is kept as it was)."""
    with _writing(db):
        return _upsert(db, mention)


def upsert_mentions(db: Database, mentions: Iterable[Mapping]) -> Counter:
    """Store many mentions in one transaction; returns counts per outcome.

    Either every mention is stored or, if anything fails, none is.
    """
    outcomes: Counter = Counter()
    with _writing(db):
        for mention in mentions:
            outcomes[_upsert(db, mention)] += 1
    return outcomes


@contextmanager
def _writing(db: Database) -> Iterator[None]:
    """A transaction storing posts, which no erasure commits in the middle of (PostgreSQL's
    writers run side by side: they hold the "erasure" lock shared, an erasure alone), with
    the erased authors read once at its start."""
    try:
        with db.atomic(beside="erasure"):
            refresh_erased(db)
            _AUTHORS_WRITTEN[db] = set()
            yield
    except BaseException:
        _KNOWN_SOURCES.pop(db, None)  # a source it stored went with the transaction
        raise


def _require(mention: Mapping, field: str) -> str:
    value = mention.get(field)
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"mention field '{field}' is required, got {value!r}")
    return value


def _upsert(db: Database, mention: Mapping) -> str:
    source_id = _require(mention, "source")
    url = _require(mention, "url")
    kind = _require(mention, "kind")
    if kind not in MENTION_KINDS:
        raise StoreError(f"mention kind {kind!r} is not one of {', '.join(MENTION_KINDS)}")
    mention = _respecting_erasures(db, source_id, mention)
    if mention is None:
        return "suppressed"
    text = mention.get("text") or ""
    title = mention.get("title")
    quotes = list(mention.get("quotes") or [])
    now = utc_now()
    known = _KNOWN_SOURCES.setdefault(db, set())
    if source_id not in known:  # sources are never deleted: asked once per connection
        db.execute(
            "INSERT INTO sources (id, kind, url, title, created_at) VALUES (?, ?, '', '', ?) "
            "ON CONFLICT (id) DO NOTHING",
            [source_id, mention.get("source_kind") or "unknown", now],
        )
        known.add(source_id)
    author = _upsert_author(db, source_id, mention, now)
    row = {
        "id": mention_id(source_id, url),
        "source_id": source_id,
        "url": without_session(url),
        "canonical_url": canonical_url(url),
        "kind": kind,
        "thread_id": mention.get("thread_id"),
        "parent_id": mention_id(source_id, mention["parent_url"])
        if mention.get("parent_url")
        else None,
        "author_id": author,
        "published_at": mention.get("published_at"),
        "fetched_at": mention.get("fetched_at") or now,
        "title": title,
        "text": text,
        "quotes": json.dumps(quotes, ensure_ascii=False),
        "language": mention.get("language"),
        "rating": mention.get("rating"),
        "rating_max": mention.get("rating_max"),
        "likes": mention.get("likes"),
        "replies": mention.get("replies"),
        "views": mention.get("views"),
        "metadata": json.dumps(mention.get("metadata") or {}, ensure_ascii=False, sort_keys=True),
        "content_hash": content_hash(title, text, quotes),
        "duplicate_of": mention.get("duplicate_of"),
        "minhash": mention.get("minhash"),
    }
    inserted = {**row, "edited_at": mention.get("edited_at")}
    columns = ", ".join(inserted)
    placeholders = ", ".join("?" for _ in inserted)
    stored = db.execute(  # a new post at once; a known one (or one a writer beside this one
        f"INSERT INTO mentions ({columns}) VALUES ({placeholders}) "  # stored meanwhile)
        "ON CONFLICT (id) DO NOTHING RETURNING seq",  # is compared with what is stored
        list(inserted.values()),
    ).fetchone()
    if stored is not None:
        _write_fts(db, stored[0], title, text, replace=False)
        _write_bands(db, stored[0], row, mention.get("lsh_keys"), replace=False)
        return "inserted"
    existing = _stored_version(db, row["id"])
    (seq, old_hash, version, old_title, old_text, old_quotes, old_author, old_published,
     old_handle) = existing
    if old_hash == row["content_hash"]:
        _refresh_engagement(db, row)
        return "unchanged"
    reason = refused_edit({"title": old_title, "text": old_text, "quotes": old_quotes,
                           "author_id": old_author, "author_handle": old_handle}, row)
    if reason:
        logger.warning("edit refused (%s): %s", reason, url)
        _drop_unused_author(db, author, old_author, now)
        return "refused"
    if row["published_at"] is None:  # an edit does not forget when the post was written
        row["published_at"] = old_published
    db.execute(
        """INSERT INTO mention_history
           (mention_id, version, title, text, quotes, content_hash, replaced_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [row["id"], version, old_title, old_text, old_quotes, old_hash, now],
    )
    assignments = ", ".join(f"{column} = ?" for column in row if column != "id")
    values = [value for column, value in row.items() if column != "id"]
    db.execute(
        f"UPDATE mentions SET {assignments}, version = ?, edited_at = ? WHERE id = ?",
        [*values, version + 1, mention.get("edited_at") or now, row["id"]],
    )
    _write_fts(db, seq, title, text, replace=True)
    _write_bands(db, seq, row, mention.get("lsh_keys"), replace=True)
    return "updated"


def _respecting_erasures(db: Database, source_id: str, mention: Mapping) -> Mapping | None:
    """None for a mention by an erased author; otherwise the mention with quotes of erased
    authors dropped and their ``@``-mentions masked (``store.erased``)."""
    erased = erased_of(db, source_id)
    if erased is None:
        return mention
    if erased.is_erased_handle(mention.get("author_handle")):
        return None
    return erased.scrub(mention)


def refused_edit(old: Mapping, new: Mapping) -> str | None:
    """Why a changed version of a stored mention must not replace it, or ``None``: its title,
    text or quotes show more encoding damage than the stored ones (``garbled``, a page read
    in the wrong encoding), or it names another author (``author_changed``) while the stored
    author's handle is readable (a garbled one may be mended)."""
    if any(became_garbled(old[field], new[field]) for field in ("title", "text", "quotes")):
        return "garbled"
    if (old["author_id"] and new["author_id"] and old["author_id"] != new["author_id"]
            and not looks_garbled(old.get("author_handle"))):
        return "author_changed"
    return None


def _drop_unused_author(db: Database, author: str | None, kept: str | None, now: str) -> None:
    """Remove the author row a refused edit has just created, so a garbled name leaves no
    trace (an author seen before, or named by any mention, stays)."""
    if author and author != kept:
        db.execute(
            """DELETE FROM authors WHERE id = ? AND first_seen = ?
               AND NOT EXISTS (SELECT 1 FROM mentions WHERE author_id = ?)""",
            [author, now, author],
        )


def _write_bands(db: Database, seq: int, row: dict, keys: list[int] | None, *,
                 replace: bool) -> None:
    """LSH band keys of an original post; a cross-post is never a candidate original, so its
    keys are not kept."""
    if replace:
        db.execute("DELETE FROM mention_bands WHERE mention_seq = ?", [seq])
    if keys and row["duplicate_of"] is None:
        db.conn.executemany("INSERT INTO mention_bands (key, mention_seq) VALUES (?, ?)",
                            [(key, seq) for key in set(keys)])


def near_duplicate_candidates(
    db: Database, keys: list[int], exclude_id: str, limit: int = 50
) -> list[tuple[str, bytes]]:
    """Stored originals sharing an LSH band key: ``(mention_id, minhash)``, oldest first."""
    if not keys:
        return []
    marks = ", ".join("?" for _ in keys)
    return db.execute(
        f"""SELECT DISTINCT m.id, m.minhash FROM mention_bands b
            JOIN mentions m ON m.seq = b.mention_seq
            WHERE b.key IN ({marks}) AND m.id != ? AND m.duplicate_of IS NULL
            ORDER BY m.seq LIMIT ?""",
        [*keys, exclude_id, limit],
    ).fetchall()


def _refresh_engagement(db: Database, row: dict) -> None:
    """Counts of likes, replies and views move without an edit: keep the latest known."""
    db.execute(
        """UPDATE mentions SET fetched_at = ?, likes = coalesce(?, likes),
           replies = coalesce(?, replies), views = coalesce(?, views),
           rating = coalesce(?, rating) WHERE id = ?""",
        [row["fetched_at"], row["likes"], row["replies"], row["views"], row["rating"], row["id"]],
    )


def _write_fts(db: Database, seq: int, title: str | None, text: str, *, replace: bool) -> None:
    if replace:
        db.execute("DELETE FROM mentions_fts WHERE rowid = ?", [seq])
    db.execute(
        "INSERT INTO mentions_fts (rowid, title, text) VALUES (?, ?, ?)",
        [seq, fold_for_search(title or ""), fold_for_search(text)],
    )


def _stored_version(db: Database, identifier: str) -> tuple | None:
    return db.execute(
        """SELECT seq, content_hash, version, title, text, quotes, author_id, published_at,
                  (SELECT handle FROM authors WHERE id = author_id)
           FROM mentions WHERE id = ?""",
        [identifier],
    ).fetchone()


def _upsert_author(db: Database, source_id: str, mention: Mapping, now: str) -> str | None:
    handle = (mention.get("author_handle") or "").strip()
    if not handle:
        return None
    identifier = author_id(source_id, handle)
    written = _AUTHORS_WRITTEN.setdefault(db, set())
    if (identifier, mention.get("author_name"), mention.get("author_url")) in written:
        return identifier  # a post of the same batch wrote it, seen now
    written.add((identifier, mention.get("author_name"), mention.get("author_url")))
    db.execute(
        """INSERT INTO authors
           (id, source_id, handle, display_name, profile_url, first_seen, last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
             display_name = coalesce(excluded.display_name, authors.display_name),
             profile_url = coalesce(excluded.profile_url, authors.profile_url),
             last_seen = excluded.last_seen""",
        [
            identifier,
            source_id,
            handle,
            mention.get("author_name"),
            mention.get("author_url"),
            now,
            now,
        ],
    )
    return identifier


def count_mentions(db: Database, source_id: str | None = None) -> int:
    """How many mentions are stored, for one source or all."""
    if source_id is None:
        return db.execute("SELECT count(*) FROM mentions").fetchone()[0]
    return db.execute(
        "SELECT count(*) FROM mentions WHERE source_id = ?", [source_id]
    ).fetchone()[0]


def is_stored(db: Database, source_id: str, url: str) -> bool:
    """True if the mention at ``url`` of ``source_id`` is stored."""
    row = db.execute("SELECT 1 FROM mentions WHERE id = ?", [mention_id(source_id, url)])
    return row.fetchone() is not None
