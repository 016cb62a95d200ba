"""The store's sentiment adapter and the sentiment labels people gave that teach it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from store.corrections import latest_labels
from store.mentions import utc_now


@dataclass(frozen=True)
class StoredAdapter:
    fingerprint: str
    version: str
    labels: int
    fitted_at: str
    blob: bytes


@dataclass(frozen=True)
class SentimentLabel:
    """The latest sentiment a person gave a mention (``sentence`` None) or one of its
    sentences."""

    mention_id: str
    sentence: int | None
    sentiment: str
    text: str  # the mention's text


def stored_adapter(db: Database) -> StoredAdapter | None:
    """The store's sentiment adapter, if one was fitted."""
    row = db.execute("SELECT fingerprint, version, labels, fitted_at, model "
                     "FROM sentiment_adapters WHERE id = 1").fetchone()
    return StoredAdapter(*row) if row else None


def save_adapter(db: Database, fingerprint: str, version: str, labels: int,
                 blob: bytes) -> None:
    """Replace the store's sentiment adapter."""
    with db.atomic():
        db.execute(
            """INSERT INTO sentiment_adapters (id, fingerprint, version, labels, fitted_at,
                                              model)
               VALUES (1, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint,
                 version = excluded.version, labels = excluded.labels,
                 fitted_at = excluded.fitted_at, model = excluded.model""",
            [fingerprint, version, labels, utc_now(), blob])


def drop_adapter(db: Database) -> None:
    """Forget the adapter (no labels are left to teach one)."""
    with db.atomic():
        db.execute("DELETE FROM sentiment_adapters")


def sentiment_labels(db: Database) -> list[SentimentLabel]:
    """The latest sentiment label of each mention and sentence people labelled."""
    return [SentimentLabel(*row) for row in latest_labels(db, "sentiment")]
