"""What only a server store meets: connections the server drops, writers side by side."""

import threading
from collections import Counter

import psycopg
import pytest
from conftest import fresh_postgres_database

import store
from store.db import TRANSIENT_ERRORS, retry_transient


def test_a_dropped_connection_fails_one_try_and_the_next_connects_again(postgres_template,
                                                                        make_mention):
    with fresh_postgres_database(postgres_template) as url, store.open_db(url) as db:
        pid = db.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(url, autocommit=True) as admin:  # a restart, a network cut
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(TRANSIENT_ERRORS):
            store.upsert_mentions(db, [make_mention()])
        written = retry_transient(lambda: store.upsert_mentions(db, [make_mention()]))
        assert written == Counter(inserted=1)
        assert store.count_mentions(db) == 1


def test_writers_side_by_side_never_deadlock_nor_store_a_post_twice(postgres_template,
                                                                    make_mention):
    """Each writer stores posts of the same days in another order (in PostgreSQL a writer
    that waited for another's mark of a day could deadlock with it), and the third stores
    posts the first is storing too, into a source none of them had stored yet."""
    errors = []

    def write(url, order):
        try:
            with store.open_db(url) as db:
                for n in order:
                    store.upsert_mentions(db, [make_mention(
                        url=f"https://f.example/{order[0]}/{n}",
                        published_at=f"2026-10-{n:02d}T10:00:00+00:00")
                        for n in (n, 29 - n)])
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    with fresh_postgres_database(postgres_template) as url:
        writers = [threading.Thread(target=write, args=(url, order)) for order in
                   (list(range(1, 15)), list(range(14, 0, -1)), list(range(1, 15, 2)))]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert errors == []
        with store.open_db(url) as db:
            assert store.count_mentions(db) == 28 + 28  # the third's posts are the first's
