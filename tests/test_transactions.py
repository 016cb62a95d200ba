import subprocess
import sys
import textwrap

import store

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import store

    db = store.open_db(sys.argv[1])

    def mentions():
        for i in range(1000):
            if i == 50:
                os.kill(os.getpid(), signal.SIGKILL)
            yield {"source": "forum", "url": f"https://f.example/p/{i}", "kind": "post",
                   "text": f"пост {i}", "author_handle": f"user{i}"}

    store.upsert_mentions(db, mentions())
    """
)


def test_a_process_killed_mid_transaction_leaves_the_database_as_it_was(db_path, make_mention):
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention())
    result = subprocess.run([sys.executable, "-c", KILLER, str(db_path)], timeout=60)
    assert result.returncode == -9
    with store.open_db(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.count_mentions(db) == 1
        assert db.execute("SELECT count(*) FROM authors").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM mentions_fts").fetchone()[0] == 1
