"""The store: the only code that writes to the database.

Everything else calls these functions, so that a server database can replace SQLite
behind the same interface.
"""

from store.corrections import add_correction
from store.crawl_state import (
    finish_run,
    get_state,
    last_run_complete,
    last_runs,
    merge_state,
    set_state,
    start_run,
)
from store.db import (
    DEFAULT_DB_PATH,
    TRANSIENT_ERRORS,
    StoreError,
    default_db_path,
    describe_store,
    open_db,
    store_target,
)
from store.erasure import erase_author
from store.identity import author_id, canonical_url, content_hash, mention_id
from store.mentions import (
    count_mentions,
    is_stored,
    near_duplicate_candidates,
    upsert_mention,
    upsert_mentions,
    upsert_source,
    utc_now,
)
from store.search import search_mentions

__all__ = [
    "add_correction",
    "DEFAULT_DB_PATH",
    "StoreError",
    "TRANSIENT_ERRORS",
    "author_id",
    "canonical_url",
    "content_hash",
    "count_mentions",
    "default_db_path",
    "describe_store",
    "erase_author",
    "finish_run",
    "is_stored",
    "get_state",
    "last_run_complete",
    "last_runs",
    "mention_id",
    "merge_state",
    "near_duplicate_candidates",
    "open_db",
    "search_mentions",
    "set_state",
    "start_run",
    "store_target",
    "upsert_mention",
    "upsert_mentions",
    "upsert_source",
    "utc_now",
]
