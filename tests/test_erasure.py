import hashlib
import hmac
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_crawl, write_sources
from typer.testing import CliRunner

import store
from cli import app
from store.tags import Tag, write_tags

pytestmark = pytest.mark.both_backends


def _all_text(db) -> str:
    """Every value of every row of every table, as one string."""
    chunks = []
    for table in db.table_names():
        for row in db.execute(f'SELECT * FROM "{table}"').fetchall():
            chunks.append(json.dumps(row, ensure_ascii=False, default=str))
    return "\n".join(chunks).casefold()


def test_erasure_leaves_no_row_naming_the_author(db, make_mention):
    own = make_mention(url="https://f.example/p/1", author_handle="Svetlana_K",
                       author_name="Светлана Ковальчук", text="Мой секретный отзыв о Волне")
    store.upsert_mention(db, own)
    store.upsert_mention(db, {**own, "text": "Мой исправленный отзыв о Волне"})
    reply = make_mention(url="https://f.example/p/2", author_handle="boris",
                         text="Не согласен.",
                         quotes=[{"author": "Svetlana_K", "text": "Мой исправленный отзыв"}])
    store.upsert_mention(db, reply)
    erased_id = store.mention_id("forum", "https://f.example/p/1")
    author = store.author_id("forum", "Svetlana_K")
    store.upsert_mention(db, make_mention(url="https://f.example/p/3", author_handle="copycat",
                                          text="Скопировано", duplicate_of=erased_id))
    write_tags(db, [Tag(erased_id, "sentiment", "negative", 0.9, "m", "1", "h")])
    db.execute("INSERT INTO hits (mention_id, kind, key, evidence) VALUES (?, 'brand', "
               "'volna', 'Волне')", [erased_id])
    db.execute("INSERT INTO advocate_scores VALUES (?, 'volna', 0.8, '{}', 'now')", [author])
    db.execute("INSERT INTO risk_status VALUES (?, 'new', NULL, 'now')", [author])
    db.execute("INSERT INTO clusters (id, label, created_at, updated_at) "
               "VALUES ('c1', 'refunds', 'now', 'now')")
    db.execute("INSERT INTO cluster_members VALUES ('c1', ?, 0.9, 1)", [erased_id])
    db.execute("INSERT INTO alerts (key, started_at, last_seen_at, example_ids) "
               "VALUES ('volna/billing', 'now', 'now', ?)",
               [json.dumps([erased_id, "other"])])
    db.execute("INSERT INTO corrections (mention_id, field, new_value, created_at) "
               "VALUES (?, 'sentiment', 'neutral', 'now')", [erased_id])
    db.conn.commit()

    counts = store.erase_author(db, "forum", "svetlana_k")

    assert counts == {"mentions": 1, "quotes": 1, "masked": 0, "file_cleared": True}
    dump = _all_text(db)
    for trace in ("svetlana", "ковальчук", "секретный", "исправленный", erased_id, author):
        assert trace.casefold() not in dump
    assert store.count_mentions(db) == 2
    assert "не согласен" in dump
    (log,) = db.execute("SELECT source_id, counts FROM erasures").fetchall()
    assert log[0] == "forum" and json.loads(log[1]) == {"mentions": 1, "quotes": 1, "masked": 0}
    assert store.search_mentions(db, "отзыв") == []


def test_erasing_an_unknown_author_is_an_error(db):
    with pytest.raises(store.StoreError, match="no author 'ghost' in source 'forum'"):
        store.erase_author(db, "forum", "ghost")


def _erase_svetlana(db, make_mention):
    """Svetlana's post, a reply naming her, then her erasure; returns her post."""
    own = make_mention(url="https://f.example/p/1", author_handle="Svetlana_K",
                       author_name="Светлана Ковальчук", text="Мой секретный отзыв о Волне")
    store.upsert_mention(db, own)
    return own, store.erase_author(db, "forum", "Svetlana_K")


def test_the_record_of_an_erasure_is_a_keyed_hash_not_the_handle(db, make_mention, tmp_path):
    _erase_svetlana(db, make_mention)
    rows = db.execute("SELECT source_id, kind, digest FROM erased_authors").fetchall()
    assert sorted(kind for _, kind, _ in rows) == ["handle", "name", "name"]
    (key,) = db.execute("SELECT value FROM store_secrets WHERE name = 'erasure_key'").fetchone()
    assert len(key) == 32
    expected = hmac.new(key, b"forum\x1fsvetlana_k", hashlib.sha256).hexdigest()
    assert ("forum", "handle", expected) in rows
    dump = json.dumps(rows, ensure_ascii=False).casefold()
    assert "svetlana" not in dump and "ковальчук" not in dump
    with store.open_db(tmp_path / "other.db") as other:  # every store has a key of its own
        (other_key,) = other.execute("SELECT value FROM store_secrets").fetchone()
    assert other_key != key


def test_later_writes_suppress_the_author_and_clean_other_posts(db, make_mention):
    own, _ = _erase_svetlana(db, make_mention)
    assert store.upsert_mention(db, {**own, "author_handle": "  SVETLANA_k "}) == "suppressed"
    fresh = make_mention(url="https://f.example/p/9", author_handle="svetlana_k",
                         text="Новый пост после удаления")
    reply = make_mention(
        url="https://f.example/p/10", author_handle="boris",
        title="Ответ @Светлана Ковальчук", text="@svetlana_k, согласен! И @svetlana_kx тоже.",
        quotes=[{"author": "Светлана Ковальчук", "text": "секретный отзыв"},
                {"author": "anna", "text": "как сказала @Svetlana_K, ужас"}])
    assert store.upsert_mentions(db, [fresh, reply]) == {"suppressed": 1, "inserted": 1}
    assert not store.is_stored(db, "forum", "https://f.example/p/9")
    assert db.execute("SELECT count(*) FROM authors WHERE handle LIKE 'svetlana%'"
                      ).fetchone()[0] == 0
    title, text, quotes = db.execute("SELECT title, text, quotes FROM mentions WHERE url = ?",
                                     ["https://f.example/p/10"]).fetchone()
    assert title == "Ответ @[erased]"
    assert text == "@[erased], согласен! И @svetlana_kx тоже."
    assert json.loads(quotes) == [{"author": "anna", "text": "как сказала @[erased], ужас"}]
    assert store.upsert_mention(db, reply) == "unchanged"
    other_source = make_mention(source="reviews", url="https://r.example/1",
                                author_handle="Svetlana_K", text="Другой человек")
    assert store.upsert_mention(db, other_source) == "inserted"  # a handle names one source


def test_erasure_masks_mentions_of_the_person_already_stored(db, make_mention):
    reply = make_mention(url="https://f.example/p/2", author_handle="boris",
                         text="Спасибо, @Svetlana_K! Помогло.")
    store.upsert_mention(db, reply)
    store.upsert_mention(db, {**reply, "text": "Спасибо, @svetlana_k!! Помогло."})
    reply_id = store.mention_id("forum", reply["url"])
    db.execute("INSERT INTO hits (mention_id, kind, key, evidence) VALUES "
               "(?, 'intent', 'praise', 'Спасибо, @svetlana_k')", [reply_id])
    db.conn.commit()

    _, counts = _erase_svetlana(db, make_mention)

    assert counts["masked"] == 1
    assert db.execute("SELECT text FROM mentions WHERE id = ?", [reply_id]).fetchone() == (
        "Спасибо, @[erased]!! Помогло.",)
    assert db.execute("SELECT text FROM mention_history").fetchall() == [
        ("Спасибо, @[erased]! Помогло.",)]
    assert db.execute("SELECT evidence FROM hits").fetchall() == [("Спасибо, @[erased]",)]
    assert store.search_mentions(db, "svetlana") == []
    assert [row["id"] for row in store.search_mentions(db, "Помогло")] == [reply_id]
    # the crawler meets the original again: it is stored as it was left, not as an edit
    assert store.upsert_mention(db, {**reply, "text": "Спасибо, @svetlana_k!! Помогло."}) \
        == "unchanged"


def _raw_bytes(db_path: Path) -> bytes:
    return b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))


@pytest.mark.sqlite_only
def test_the_database_files_keep_no_trace(db_path, make_mention):
    phrase = "оранжевый носорог съел мой роутер"
    with store.open_db(db_path) as db:
        for n in range(30):
            url = f"https://f.example/p/{n}"
            store.upsert_mention(db, make_mention(
                url=url, author_handle="Zoya_Q", author_name="Зоя Кью",
                text=f"Пост {n}: {phrase}") if n % 2 == 0 else make_mention(
                url=url, author_handle="noname", author_name=None,
                text=f"Ответ {n}: Волна снова без связи, @Zoya_Q права"))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # half of it in the database file...
        store.upsert_mention(db, make_mention(url="https://f.example/p/99",
                                              author_handle="Zoya_Q", text=f"И ещё: {phrase}"))
        assert phrase.encode() in _raw_bytes(db_path)  # ...the rest in the WAL
        reader = store.open_db(db_path)  # the dashboard, idle, holds the file open
        counts = store.erase_author(db, "forum", "zoya_q")
        reader.close()
    assert counts["mentions"] == 16 and counts["file_cleared"]
    raw = _raw_bytes(db_path)
    for trace in ("Zoya_Q", "zoya_q", "Зоя Кью", phrase, "носорог"):
        assert trace.encode() not in raw, trace
    assert "Волна снова без связи".encode() in raw


@pytest.mark.sqlite_only
def test_a_reader_in_the_middle_of_a_read_leaves_the_wal_for_later(db_path, make_mention):
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention(author_handle="Zoya_Q"))
        reader = store.open_db(db_path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM mentions").fetchone()
        try:
            counts = store.erase_author(db, "forum", "Zoya_Q")
        finally:
            reader.execute("COMMIT")
            reader.close()
        assert counts["mentions"] == 1 and not counts["file_cleared"]
        assert store.count_mentions(db) == 0
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"Zoya_Q" not in _raw_bytes(db_path)


def _table_files(db) -> bytes:
    """The bytes of every table and index file of a PostgreSQL store (not its WAL)."""
    db.execute("CHECKPOINT")
    folder, oid = db.execute("SELECT current_setting('data_directory'), oid FROM pg_database "
                             "WHERE datname = current_database()").fetchone()
    return b"".join(path.read_bytes() for path in (Path(folder) / "base" / str(oid)).iterdir()
                    if path.is_file())


def test_postgresql_table_files_keep_no_trace(postgres_template, make_mention):
    from conftest import fresh_postgres_database

    phrase = "оранжевый носорог съел мой роутер"
    with fresh_postgres_database(postgres_template) as url, store.open_db(url) as db:
        for n in range(30):
            store.upsert_mention(db, make_mention(
                url=f"https://f.example/p/{n}", author_handle="Zoya_Q", author_name="Зоя Кью",
                text=f"Пост {n}: {phrase}") if n % 2 == 0 else make_mention(
                url=f"https://f.example/p/{n}", author_handle="noname", author_name=None,
                text=f"Ответ {n}: Волна снова без связи, @Zoya_Q права"))
        assert phrase.encode() in _table_files(db)
        counts = store.erase_author(db, "forum", "zoya_q")
        assert counts["mentions"] == 15 and counts["file_cleared"]
        raw = _table_files(db)
    for trace in ("Zoya_Q", "zoya_q", "Зоя Кью", phrase, "носорог"):
        assert trace.encode() not in raw, trace
    assert "Волна снова без связи".encode() in raw


def test_an_erasure_refuses_to_join_an_open_transaction(db, make_mention):
    store.upsert_mention(db, make_mention())
    db.execute("BEGIN")
    with pytest.raises(store.StoreError, match="transaction of its own"):
        store.erase_author(db, "forum", "ivan_petrov")
    db.execute("ROLLBACK")
    assert store.count_mentions(db) == 1


def test_the_dashboard_forgets_the_person_at_once(db_path):
    from test_app import build_populated_db

    from config.catalogue import DEFAULT_CATALOGUE, load_catalogue
    from dashboard import views
    from dashboard.filters import Filters
    from insights import daily
    from store.rollups import stale_days

    build_populated_db(db_path)
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    period = Filters(date(2026, 9, 25), date(2026, 11, 20))
    kate = store.author_id("forum", "kate")

    def shown(db):
        advocates = views.advocates(db, period, catalogue)
        return ({row["author_id"] for row in views.at_risk(db, period, catalogue)},
                {row["author_id"] for row in advocates["table"]},
                {row["author_id"] for row in advocates["classes"]})

    with store.open_db(db_path) as db:
        daily.refresh(db)
        assert all(kate in ids for ids in shown(db))
        assert db.execute("SELECT count(*) FROM author_days WHERE author_id = ?",
                          [kate]).fetchone()[0] > 0
    result = CliRunner().invoke(app, ["erase-author", "forum", "Kate", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "later crawls count their posts as suppressed" in result.output
    with store.open_db(db_path) as db:
        assert stale_days(db) == []  # rebuilt by the command, not left to the next analyze
        assert db.execute("SELECT count(*) FROM author_days WHERE author_id = ?",
                          [kate]).fetchone()[0] == 0
        assert not any(kate in ids for ids in shown(db))
        assert store.author_id("forum", "olga") in shown(db)[2]


def test_erasing_an_unknown_author_is_one_line_from_the_cli(tmp_path):
    store.open_db(tmp_path / "x.db").close()
    result = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "erase-author", "forum", "ghost", "--db",
         str(tmp_path / "x.db")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr == "error: no author 'ghost' in source 'forum'\n"


def _forum(edit, port=0):
    """The demo forum with ``edit(data)`` applied to its sample posts, served on 127.0.0.1."""
    from demo.phpbb import build_forum
    from demo.site import SAMPLE_FILE, start_server

    data = yaml.safe_load(SAMPLE_FILE.read_text(encoding="utf-8"))
    edit(data)
    return start_server(port=port, forum=build_forum(data))


def _topic(data, topic_id):
    return next(topic for board in data["boards"] for topic in board["topics"]
                if topic["id"] == topic_id)


def _post(data, post_id):
    return next(post for board in data["boards"] for topic in board["topics"]
                for post in topic["posts"] if post["id"] == post_id)


def test_a_recrawl_keeps_an_erased_author_out(tmp_path):
    def thanks(data):  # Иван thanks marina_89 by name in a reply
        _post(data, 2310)["text"] += "\n\n@marina_89 спасибо за подсказку!"

    def later(data):  # then marina_89 and dmitry_nsk post again in her topic
        thanks(data)
        _topic(data, 9)["posts"] += [
            {"id": 2400, "author": "marina_89", "user_id": 23, "time": "2026-11-19T08:00:00+00:00",
             "text": "Снова я: фиолетовый кенгуру вернул мне деньги."},
            {"id": 2401, "author": "dmitry_nsk", "user_id": 35,
             "time": "2026-11-19T09:00:00+00:00",
             "quotes": [{"author": "marina_89", "post_id": 2400,
                         "text": "фиолетовый кенгуру вернул мне деньги"}],
             "text": "@marina_89 рад за тебя, у меня всё так же."}]

    server, base_url = _forum(thanks)
    source = {"id": "community", "kind": "forum", "url": f"{base_url}/forum/",
              "since_days": 36500,
              "options": {"engine": "phpbb", "boards": ["viewforum.php?f=1", "viewforum.php?f=2"]}}
    sources = write_sources(tmp_path / "sources.yaml", source)
    db_path = tmp_path / "crawl.db"
    try:
        first = run_crawl(sources, db_path, jobs=False)
    finally:
        server.shutdown()
        server.server_close()
    assert first.returncode == 0, first.stderr
    marina = store.author_id("community", "marina_89")
    with store.open_db(db_path) as db:
        own = db.execute("SELECT count(*) FROM mentions WHERE author_id = ?",
                         [marina]).fetchone()[0]
    assert own > 0

    erased = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "erase-author", "community", "marina_89", "--db",
         str(db_path)], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert erased.returncode == 0, erased.stderr
    assert f"erased {own} mentions and 1 quotes, masked @-mentions in 1" in erased.stderr

    server, _ = _forum(later, port=int(base_url.rsplit(":", 1)[1]))  # the same site again
    try:
        second = run_crawl(sources, db_path, jobs=False)
    finally:
        server.shutdown()
        server.server_close()
    assert second.returncode == 0, second.stderr
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)[:1]
        suppressed = run["stats"]["otklik/stored/suppressed"]
        # her topic is read again: her four old posts and the new one are refused, the eight
        # by others (one quoting her) are as the erasure left them, dmitry's reply is new
        assert "1 new, 0 edited, 8 unchanged, 0 skipped, 5 suppressed" in second.stdout
        assert db.execute("SELECT count(*) FROM authors WHERE handle = 'marina_89'"
                          ).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM mentions WHERE author_id = ?",
                          [marina]).fetchone()[0] == 0
        reply = db.execute("SELECT text, quotes FROM mentions WHERE url LIKE '%p=2401#p2401'"
                           ).fetchone()
        assert reply == ("@[erased] рад за тебя, у меня всё так же.", "[]")
        thanked = db.execute("SELECT text, version FROM mentions WHERE url LIKE "
                             "'%p=2310#p2310'").fetchone()
        assert thanked[0].endswith("@[erased] спасибо за подсказку!") and thanked[1] == 1
        assert store.search_mentions(db, "кенгуру") == []
    stats = CliRunner().invoke(app, ["stats", "--db", str(db_path)])
    row = next(line for line in stats.output.splitlines() if line.startswith("│ community"))
    assert [cell.strip() for cell in row.split("│")][4:8] == ["1", "0", "0", str(suppressed)]
    raw = _raw_bytes(db_path)
    assert b"marina_89" not in raw and "кенгуру".encode() not in raw


def test_a_crawl_already_running_learns_of_an_erasure_at_its_next_write(db_path, make_mention):
    crawler, operator = store.open_db(db_path), store.open_db(db_path)
    post = make_mention(author_handle="Zoya_Q")
    assert store.upsert_mention(crawler, post) == "inserted"
    store.erase_author(operator, "forum", "Zoya_Q")
    assert store.upsert_mention(crawler, post) == "suppressed"
    crawler.close()
    operator.close()
