"""Stable identifiers and hashes: pure functions, no database."""

from __future__ import annotations

import functools
import hashlib
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that change between visits but never name different content.
VOLATILE_PARAMS = {"sid", "s", "phpsessid", "fbclid", "gclid", "yclid", "ref", "ref_src"}
DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=65536)  # a crawl asks for each URL's form several times
def canonical_url(url: str) -> str:
    """Normalise a URL so that two visits of the same post give the same string.

    Lower-cases scheme and host, drops default ports, session and tracking parameters
    (``sid``, ``utm_*``, …) and sorts the rest. The fragment is kept: forum permalinks
    such as ``viewtopic.php?p=42#p42`` name a single post by it.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in VOLATILE_PARAMS and not key.lower().startswith("utm_")
    )
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query), parts.fragment))


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
