"""The record of erased authors, and what every later write does with it.

An erased author is kept only as keyed hashes: HMAC-SHA256, with the store's own secret key
(``store_secrets``), of the source id and the normalised (stripped, case-folded) handle, and
of their display name. A mention by an erased handle is refused; in other people's mentions,
quotes attributed to an erased author are dropped and ``@handle`` / ``@Display Name`` is
masked. The same :class:`Erased` rules run at erasure time and on every later write, so a
re-crawled post comes out exactly as the erasure left it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlite_utils import Database

KEY_NAME = "erasure_key"
MASK = "@[erased]"
NAME_WORDS = 4  # the longest display name looked for after an "@", in words
_WORDS = re.compile(r"[^\s@]+")
_TRAILING = ".,:;!?)]}»\"'…"


def normalise(name: str) -> str:
    """A handle or name as it is hashed: stripped and case-folded."""
    return name.strip().casefold()


def digest(key: bytes, source_id: str, name: str) -> str:
    """The keyed hash of ``name`` (a handle or display name) in ``source_id``."""
    message = f"{source_id}\x1f{normalise(name)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Erased:
    """The erased authors of one source: digests of their handles, and of every name
    (handles and display names) that quotes and ``@``-mentions may carry."""

    key: bytes
    source_id: str
    handles: frozenset[str]
    names: frozenset[str]

    def is_erased_handle(self, handle: str | None) -> bool:
        """True if ``handle`` belongs to an erased author of this source."""
        return bool(handle and handle.strip()) and self._digest(handle) in self.handles

    def names_erased(self, name: str | None) -> bool:
        """True if ``name`` is the handle or display name of an erased author."""
        return bool(name and name.strip()) and self._digest(name) in self.names

    def mask(self, text: str | None) -> str | None:
        """``text`` with every ``@name`` of an erased author replaced by ``@[erased]``."""
        if not text or "@" not in text:
            return text
        out, done = [], 0
        for at in (m.start() for m in re.finditer("@", text)):
            if at < done:
                continue
            end = self._erased_name_end(text, at + 1)
            if end is not None:
                out += [text[done:at], MASK]
                done = end
        return "".join(out) + text[done:] if out else text

    def quotes(self, quotes: Iterable[Mapping]) -> list[dict]:
        """Quotes with those attributed to an erased author left out, the rest masked."""
        return [{**quote, "text": self.mask(quote.get("text"))} if "text" in quote
                else dict(quote)
                for quote in quotes if not self.names_erased(quote.get("author"))]

    def scrub(self, mention: Mapping) -> dict:
        """A mention by someone else as it may be stored: erased quotes dropped, erased
        ``@``-mentions masked in its title, text and remaining quotes."""
        return {**mention, "title": self.mask(mention.get("title")),
                "text": self.mask(mention.get("text")),
                "quotes": self.quotes(mention.get("quotes") or [])}

    def _digest(self, name: str) -> str:
        return digest(self.key, self.source_id, name)

    def _erased_name_end(self, text: str, start: int) -> int | None:
        """Where the longest erased name right after ``start`` ends, if one does."""
        ends, position = [], start
        for word in _WORDS.finditer(text, start):
            if word.start() != position or len(ends) == NAME_WORDS:
                break
            ends.append(word.end())
            position = word.end()
            while position < len(text) and text[position] in " \t":
                position += 1
        for end in reversed(ends):
            candidate = text[start:end]
            trimmed = candidate.rstrip(_TRAILING)
            for name in dict.fromkeys((candidate, trimmed)):
                if name and self._digest(name) in self.names:
                    return start + len(name)
        return None


def secret_key(db: Database) -> bytes:
    """The store's erasure key, created on first need if missing."""
    row = db.execute("SELECT value FROM store_secrets WHERE name = ?", [KEY_NAME]).fetchone()
    if row is None:
        db.execute("INSERT INTO store_secrets (name, value) VALUES (?, ?)",
                   [KEY_NAME, secrets.token_bytes(32)])
        return secret_key(db)
    return bytes(row[0])


def record(db: Database, source_id: str, handle: str, names: Iterable[str]) -> Erased:
    """Record an erased author (inside the caller's transaction); returns the rules for
    just this author, to clean what is already stored."""
    key = secret_key(db)
    handles = {digest(key, source_id, handle)}
    every = handles | {digest(key, source_id, name) for name in names if name and name.strip()}
    rows = [(source_id, "handle", d) for d in handles] + [(source_id, "name", d) for d in every]
    db.conn.executemany(
        "INSERT OR IGNORE INTO erased_authors (source_id, kind, digest) VALUES (?, ?, ?)", rows)
    forget(db)
    return Erased(key, source_id, frozenset(handles), frozenset(every))


# Per open database: (records, {source: Erased}) — reloaded when the number of records
# moves (records are only ever added) or this connection records an erasure (forget).
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def refresh(db: Database) -> None:
    """Bring the cached record of ``db`` up to date (at the start of each write transaction,
    which erasures cannot commit during: see ``store.mentions``)."""
    version = _recorded(db)
    cached = _CACHE.get(db)
    if cached is None or cached[0] != version:
        _CACHE[db] = (version, _load(db))


def erased_of(db: Database, source_id: str) -> Erased | None:
    """The erased authors of ``source_id``, or None if it has none, as of the last
    ``refresh`` (cached per database connection: a crawl asks once per post)."""
    if db not in _CACHE:
        refresh(db)
    return _CACHE[db][1].get(source_id)


def forget(db: Database) -> None:
    """Drop the cached record of ``db``: the next write reads it again."""
    _CACHE.pop(db, None)


def _recorded(db: Database) -> int:
    """How many records of erased authors the store holds (-1 without the table: a store
    opened without its migrations)."""
    if not db.has_table("erased_authors"):
        return -1
    return db.execute("SELECT count(*) FROM erased_authors").fetchone()[0]


def _load(db: Database) -> dict[str, Erased]:
    if not db.has_table("erased_authors"):
        return {}
    rows = db.execute("SELECT source_id, kind, digest FROM erased_authors").fetchall()
    if not rows:
        return {}
    key = secret_key(db)
    by_source: dict[str, dict[str, set[str]]] = {}
    for source_id, kind, value in rows:
        by_source.setdefault(source_id, {"handle": set(), "name": set()})[kind].add(value)
    return {source_id: Erased(key, source_id, frozenset(sets["handle"]),
                              frozenset(sets["name"]))
            for source_id, sets in by_source.items()}

