"""Stable identifiers and hashes: pure functions, no database."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that carry a visitor's session, never the content: dropped from the id
# and from the stored URL. vBulletin's ``s`` counts only when it is one (32 hex digits, or
# empty): elsewhere ``s`` may be a search.
SESSION_PARAMS = {"sid", "phpsessid", "sessionid", "jsessionid", "session_id", "sessid"}
VBULLETIN_SESSION = re.compile(r"(?:[0-9a-f]{32})?", re.IGNORECASE)
PATH_SESSION = re.compile(r";jsessionid=[^/;?#]*", re.IGNORECASE)
# Query parameters that change between visits but never name different content.
TRACKING_PARAMS = {"fbclid", "gclid", "yclid", "ref", "ref_src"}
DEFAULT_PORTS = {"http": 80, "https": 443}


def _param(piece: str) -> tuple[str, str]:
    key, _, value = piece.partition("=")
    return unquote_plus(key).lower(), unquote_plus(value)


def _is_session(key: str, value: str) -> bool:
    return key in SESSION_PARAMS or (key == "s" and bool(VBULLETIN_SESSION.fullmatch(value)))


def _is_tracking(key: str) -> bool:
    return key in TRACKING_PARAMS or key.startswith("utm_")


def without_session(url: str) -> str:
    """``url`` without session ids (``sid=``, ``PHPSESSID=``, vBulletin's ``s=``,
    ``;jsessionid=``), otherwise exactly as given: what is stored as a mention's URL."""
    parts = urlsplit(url.strip())
    path = PATH_SESSION.sub("", parts.path)
    query = "&".join(piece for piece in parts.query.split("&")
                     if piece and not _is_session(*_param(piece)))
    return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))


@functools.lru_cache(maxsize=65536)  # a crawl asks for each URL's form several times
def canonical_url(url: str) -> str:
    """Normalise a URL so that two visits of the same post give the same string.

    Percent-encoding is normalised (``/тема/5`` and ``/%D1%82%D0%B5%D0%BC%D0%B0/5`` are one
    URL), scheme and host lower-cased, default ports dropped, session and tracking
    parameters (``sid``, ``utm_*``, …) dropped and the rest sorted. The fragment is kept:
    forum permalinks such as ``viewtopic.php?p=42#p42`` name a single post by it.
    """
    parts = urlsplit(canonicalize_url(without_session(url), keep_fragments=True))
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = "&".join(piece for piece in parts.query.split("&")
                     if piece and not _is_tracking(_param(piece)[0]))
    return urlunsplit((scheme, host, parts.path or "/", query, parts.fragment))


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def mention_id(source_id: str, url: str) -> str:
    """The stable id of a mention: its source plus its canonical URL."""
    return _digest(source_id, canonical_url(url))


def author_id(source_id: str, handle: str) -> str:
    """The stable id of an author: the handle is unique per source, case-insensitively."""
    return _digest(source_id, handle.strip().casefold())


def content_hash(title: str | None, text: str, quotes: list[dict]) -> str:
    """Hash of what the author wrote; engagement counts do not change it."""
    payload = json.dumps([title or "", text, quotes], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def fold_for_search(text: str) -> str:
    """Fold letters that writers use interchangeably (``ё``/``е``) for full-text search."""
    return text.replace("ё", "е").replace("Ё", "Е")
