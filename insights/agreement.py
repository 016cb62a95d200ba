"""How often the sentiment model agrees with ground truth: review stars and human labels."""

from __future__ import annotations

from collections import Counter

from sqlite_utils import Database


def label_for_rating(rating: float, rating_max: float | None) -> str:
    """Stars as a sentiment label: 4–5 of 5 positive, 3 neutral, 1–2 negative."""
    share = rating / (rating_max or 5.0)
    if share >= 0.7:
        return "positive"
    if share <= 0.45:
        return "negative"
    return "neutral"


def agreement(pairs: list[tuple[str, str]]) -> dict:
    """Share of ``(truth, predicted)`` pairs that agree, with a confusion count."""
    confusion = Counter(pairs)
    agreed = sum(count for (truth, predicted), count in confusion.items() if truth == predicted)
    total = sum(confusion.values())
    return {"n": total, "agreement": round(agreed / total, 3) if total else None,
            "confusion": {f"{t}->{p}": n for (t, p), n in sorted(confusion.items())}}


def rating_agreement(db: Database) -> dict:
    """The model's sentiment against review star ratings."""
    rows = db.execute(
        """SELECT m.rating, m.rating_max, t.value FROM mentions m
           JOIN tags t ON t.mention_id = m.id AND t.name = 'sentiment'
           WHERE m.rating IS NOT NULL AND t.value IS NOT NULL"""
    ).fetchall()
    return agreement([(label_for_rating(r, m), value) for r, m, value in rows])


def correction_agreement(db: Database) -> dict:
    """The model's sentiment against the latest human correction of each mention."""
    rows = db.execute(
        """SELECT c.new_value, t.value FROM corrections c
           JOIN tags t ON t.mention_id = c.mention_id AND t.name = 'sentiment'
           WHERE c.field = 'sentiment' AND c.id = (
               SELECT max(id) FROM corrections
               WHERE mention_id = c.mention_id AND field = 'sentiment')"""
    ).fetchall()
    return agreement([(truth, value) for truth, value in rows])
