"""Human corrections of tags: kept apart from the model's tags, never overwritten by them."""

from __future__ import annotations

from sqlite_utils import Database

from store.db import StoreError
from store.mentions import utc_now

CORRECTABLE = {"sentiment": ("negative", "neutral", "positive"), "touchpoint": None}


def add_correction(db: Database, mention_id: str, field: str, new_value: str,
                   note: str | None = None, sentence: int | None = None) -> None:
    """Record that a person set ``field`` of a mention (or of its sentence number
    ``sentence``) to ``new_value``; a touchpoint may be ``none``."""
    if field not in CORRECTABLE:
        raise StoreError(f"cannot correct {field!r}; choose {', '.join(CORRECTABLE)}")
    allowed = CORRECTABLE[field]
    if allowed and new_value not in allowed:
        raise StoreError(f"{field} {new_value!r} is not one of {', '.join(allowed)}")
    with db.atomic():
        if not db.execute("SELECT 1 FROM mentions WHERE id = ?", [mention_id]).fetchone():
            raise StoreError(f"no mention {mention_id!r}")
        old = db.execute("SELECT value FROM tags WHERE mention_id = ? AND name = ?",
                         [mention_id, field]).fetchone()
        db.execute(
            """INSERT INTO corrections (mention_id, field, old_value, new_value, note,
                                        created_at, sentence)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [mention_id, field, old[0] if old else None, new_value, note, utc_now(), sentence],
        )


def latest_labels(db: Database, field: str) -> list[tuple[str, int | None, str, str]]:
    """``(mention_id, sentence, value, mention text)``: the latest label of ``field`` people
    gave each mention (``sentence`` None) and each sentence they labelled, oldest first."""
    return db.execute(
        """SELECT c.mention_id, c.sentence, c.new_value, m.text FROM corrections c
           JOIN mentions m ON m.id = c.mention_id
           WHERE c.field = ? AND c.id = (
               SELECT max(id) FROM corrections l WHERE l.mention_id = c.mention_id
               AND l.field = c.field AND l.sentence IS c.sentence)
           ORDER BY c.id""", [field]).fetchall()
