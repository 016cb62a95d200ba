"""The batch tagger: reads mentions that need tags, writes tags. Resumable by design:
each batch is one transaction, and only untagged or outdated mentions are read."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlite_utils import Database

from nlp.language import MODEL_NAME, detect_language
from store.tags import Tag, pending_mentions, write_tags

logger = logging.getLogger(__name__)
LANGUAGE_MODEL_VERSION = "1"


def language_tags(rows: list[tuple[str, str, str]]) -> list[Tag]:
    """Language tags for ``(mention_id, text, content_hash)`` rows."""
    tags = []
    for mention_id, text, content_hash in rows:
        guess = detect_language(text)
        tags.append(Tag(mention_id, "language", guess.language, guess.confidence, MODEL_NAME,
                        LANGUAGE_MODEL_VERSION, content_hash, {"why": guess.evidence}))
    return tags


def tag_pending(
    db: Database, batch_size: int = 256, progress: Callable[[int], None] | None = None
) -> int:
    """Tag every mention that needs it, batch by batch; returns how many were tagged."""
    total = 0
    while rows := pending_mentions(db, "language", LANGUAGE_MODEL_VERSION, batch_size):
        total += write_tags(db, language_tags(rows))
        if progress:
            progress(len(rows))
    return total


def count_pending(db: Database) -> int:
    """How many mentions the tagger would tag now."""
    return len(pending_mentions(db, "language", LANGUAGE_MODEL_VERSION, limit=-1))
