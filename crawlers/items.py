"""The one item every spider yields."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Mention:
    """A post, comment, review, article or reply, as a spider found it.

    Spiders fill ``body_html`` (the author's own words) and ``quotes`` (other people's
    words the author quoted, each ``{"author": …, "html": …}``); the clean pipeline turns
    them into ``text`` and ``quotes`` of plain text. ``published_at`` is ISO-8601 in UTC.
    The dedup pipeline fills ``minhash``, ``lsh_keys`` and, for a cross-post, ``duplicate_of``.
    """

    source: str
    url: str
    kind: str = "post"
    body_html: str = ""
    text: str = ""
    quotes: list[dict] = field(default_factory=list)
    title: str | None = None
    thread_id: str | None = None
    parent_url: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    published_at: str | None = None
    edited_at: str | None = None
    language: str | None = None
    rating: float | None = None
    rating_max: float | None = None
    likes: int | None = None
    replies: int | None = None
    views: int | None = None
    metadata: dict = field(default_factory=dict)
    minhash: bytes | None = None
    lsh_keys: list[int] = field(default_factory=list)
    duplicate_of: str | None = None
