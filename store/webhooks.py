"""The posts a webhook message quotes. (What was sent is kept per incident in
``store.incidents``; ``webhook_deliveries`` holds what was sent per alert before incidents.)"""

from __future__ import annotations

import json

from sqlite_utils import Database


def example_posts(db: Database, mention_ids: list[str]) -> list[dict]:
    """``{"id", "text", "url"}`` of the given mentions, in the order asked (missing skipped)."""
    rows = db.execute(
        "SELECT id, text, url FROM mentions WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(mention_ids))],
    ).fetchall()
    found = {mention: {"id": mention, "text": text, "url": url} for mention, text, url in rows}
    return [found[mention] for mention in mention_ids if mention in found]
