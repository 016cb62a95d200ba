"""The store's schema in PostgreSQL against SQLite's after its migrations: the same tables,
columns, keys and indexes; triggers that keep roll-up days, cluster days and band rows
alike; and SQLite's functions giving SQLite's results. Runs with ``OTKLIK_TEST_PG=1``."""

import re
import secrets
import sqlite3
import time

import pytest

from store import open_db
from store.pg_schema import BASELINE_MIGRATIONS, FTS_DOCUMENT

psycopg = pytest.importorskip("psycopg")

SQLITE_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text",
                "BLOB": "bytea"}
ON_DELETE = {"a": "NO ACTION", "c": "CASCADE", "n": "SET NULL"}


@pytest.fixture(scope="module")
def pg(postgres_url):
    """A fresh store: the compat functions, the baseline schema and the later migrations."""
    name = f"otklik_schema_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + "/" + name
    open_db(url).close()
    conn = psycopg.connect(url, autocommit=True)
    yield conn
    conn.close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name}")


@pytest.fixture(scope="module")
def lite(tmp_path_factory):
    database = open_db(tmp_path_factory.mktemp("store") / "otklik.db")
    yield database.conn
    database.close()


def sqlite_tables(lite):
    return [name for (name,) in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'mentions_fts_%' "
        "ORDER BY name")]


def pg_constraints(pg, table, kind):
    """``(columns, referenced table, referenced columns, on delete)`` of one kind."""
    return sorted(pg.execute(
        """SELECT (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.conkey)
                   WITH ORDINALITY k(attnum, n) JOIN pg_attribute a
                   ON a.attrelid = c.conrelid AND a.attnum = k.attnum),
                  c.confrelid::regclass::text,
                  (SELECT array_agg(a.attname ORDER BY k.n) FROM unnest(c.confkey)
                   WITH ORDINALITY k(attnum, n) JOIN pg_attribute a
                   ON a.attrelid = c.confrelid AND a.attnum = k.attnum),
                  c.confdeltype
           FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype = %s""",
        [table, kind]).fetchall(), key=str)


def test_baseline_stands_for_every_migration_to_m018():
    assert BASELINE_MIGRATIONS[0] == "m001_core"
    assert BASELINE_MIGRATIONS[-1] == "m018_touchpoint_models"
    assert len(BASELINE_MIGRATIONS) == 18


def test_every_table_has_sqlites_columns_in_order(pg, lite):
    pg_tables = {name for (name,) in pg.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        "AND tablename != 'otklik_migrations'")}
    assert pg_tables == set(sqlite_tables(lite))
    for table in sqlite_tables(lite):
        pk = {column for (column,) in lite.execute(
            "SELECT name FROM pragma_table_info(?) WHERE pk > 0", [table])}
        expected = [(name, SQLITE_TYPES.get(kind, "text"), bool(notnull) or name in pk,
                     default) for _, name, kind, notnull, default, _ in
                    lite.execute(f"PRAGMA table_info('{table}')")]
        if table == "mentions_fts":
            expected = [("rowid", "bigint", True, None), *expected]
        found = [(name, kind, nullable == "NO",
                  re.sub(r"::[a-z ]+$", "", default) if default else None)
                 for name, kind, nullable, default in pg.execute(
                     """SELECT column_name, data_type, is_nullable, column_default
                        FROM information_schema.columns WHERE table_name = %s
                        ORDER BY ordinal_position""", [table])]
        assert found == expected, table


def test_text_compares_byte_by_byte_as_in_sqlite(pg):
    collations = {collation for (collation,) in pg.execute(
        """SELECT DISTINCT collation_name FROM information_schema.columns
           WHERE table_schema = 'public' AND data_type = 'text'
           AND table_name <> 'mentions_fts'""")}
    assert collations == {"C"}


# Marks that concurrent writers add without waiting for each other (store/pg_triggers.py).
WITHOUT_KEY = {"rollup_stale_days"}


def test_keys_checks_and_references_are_sqlites(pg, lite):
    for table in sqlite_tables(lite):
        if table == "mentions_fts":
            continue
        pk = [name for _, name, *_, position in sorted(
            lite.execute(f"PRAGMA table_info('{table}')"), key=lambda c: c[5]) if position]
        keys = [row[0] for row in pg_constraints(pg, table, "p")]
        assert keys == ([] if table in WITHOUT_KEY else [pk]), table
        unique = sorted([[name for *_, name in lite.execute(f"PRAGMA index_info('{index}')")]
                         for _, index, _, origin, _ in lite.execute(
                             f"PRAGMA index_list('{table}')") if origin == "u"])
        assert sorted(row[0] for row in pg_constraints(pg, table, "u")) == unique, table
        references = sorted(([source], parent, [target or "id"], on_delete)
                            for _, _, parent, source, target, _, on_delete, _ in
                            lite.execute(f"PRAGMA foreign_key_list('{table}')"))
        assert sorted((columns, parent, targets, ON_DELETE[action]) for columns, parent,
                      targets, action in pg_constraints(pg, table, "f")) == references, table
        sql = lite.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()
        assert len(pg_constraints(pg, table, "c")) == sql[0].count("CHECK ("), table


def test_every_named_index_and_trigger_exists(pg, lite):
    for table in sqlite_tables(lite):
        for _, index, _, origin, partial in lite.execute(f"PRAGMA index_list('{table}')"):
            if origin != "c":
                continue
            columns = [name for *_, name in lite.execute(f"PRAGMA index_info('{index}')")]
            found = pg.execute(
                """SELECT array_agg(a.attname ORDER BY k.n), bool_or(i.indpred IS NOT NULL)
                   FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE c.relname = %s AND i.indrelid = %s::regclass""",
                [index, table]).fetchone()
            assert found == (columns, bool(partial)), index
    sqlite_triggers = set(lite.execute("SELECT tbl_name, name FROM sqlite_master "
                                       "WHERE type = 'trigger'"))
    pg_triggers = set(pg.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                                 "WHERE NOT tgisinternal"))
    assert pg_triggers == sqlite_triggers


def test_trigram_index_serves_case_insensitive_search(pg):
    pg.execute("INSERT INTO mentions_fts (rowid, title, text) VALUES "
               "(1, 'Роуминг', 'Волна СПИСАЛА деньги'), (2, NULL, 'всё хорошо')")
    document = FTS_DOCUMENT.format(alias="f")
    rows = pg.execute(f"SELECT f.rowid FROM mentions_fts f WHERE {document} LIKE %s",
                      ["%списала деньги%"]).fetchall()
    pg.execute("SET enable_seqscan = off")
    plan = "\n".join(row[0] for row in pg.execute(
        f"EXPLAIN SELECT f.rowid FROM mentions_fts f WHERE {document} LIKE '%роуминг%'"))
    pg.execute("RESET enable_seqscan")
    pg.execute("DELETE FROM mentions_fts")
    assert rows == [(1,)]
    assert "mentions_fts_document" in plan


def test_store_has_its_erasure_key(pg):
    (key,) = pg.execute("SELECT value FROM store_secrets WHERE name = 'erasure_key'").fetchone()
    assert len(key) == 32


# Each step runs on both stores; after it the tables the triggers keep must agree.
MENTION = ("INSERT INTO mentions (id, source_id, url, canonical_url, kind, author_id, "
           "published_at, fetched_at, text, content_hash) "
           "VALUES (?, 'forum', ?, ?, 'post', 'a1', ?, '2024-06-01T00:00:00+00:00', 'текст', 'h')")
TAG = ("INSERT INTO tags (mention_id, name, value, model, model_version, content_hash, "
       "tagged_at) VALUES (?, ?, ?, 'm', '1', 'h', '2024-06-01') ON CONFLICT (mention_id, name) "
       "DO UPDATE SET value = excluded.value")
STEPS = [
    [("INSERT INTO sources (id, kind, created_at) VALUES ('forum', 'forum', '2024-01-01')", []),
     ("INSERT INTO authors (id, source_id, handle, first_seen, last_seen) "
      "VALUES ('a1', 'forum', 'ivan', '2024-01-01', '2024-01-01')", [])]
    + [(MENTION, [f"m{n}", f"u{n}", f"u{n}", published]) for n, published in enumerate(
        ["2024-05-17T10:00:00+00:00", "2024-05-18T01:30:00+03:00", "2024-05-18T23:30:00Z",
         None, "not a date", "2024-05-19 12:00", "2024-02-30T10:00:00"], start=1)],
    [(TAG, ["m1", "sentiment", "negative"]), (TAG, ["m2", "sentiment", "positive"]),
     (TAG, ["m3", "language", "ru"])],
    [(TAG, ["m1", "sentiment", "neutral"])],
    [("UPDATE tags SET name = 'sentiment' WHERE mention_id = 'm3'", [])],
    [("INSERT INTO hits (mention_id, kind, key) VALUES ('m3', 'brand', 'volna'), "
      "('m6', 'entity', 'Волна')", [])],
    [("UPDATE hits SET label = 'x' WHERE kind = 'entity'", [])],
    [("DELETE FROM hits WHERE kind = 'entity'", [])],
    [("UPDATE hits SET mention_id = 'm7' WHERE kind = 'brand'", [])],
    [("INSERT INTO corrections (mention_id, field, new_value, created_at) "
      "VALUES ('m2', 'sentiment', 'negative', '2024-06-02')", [])],
    [("UPDATE corrections SET mention_id = 'm6'", [])],
    [("DELETE FROM corrections", [])],
    [("INSERT INTO clusters (id, created_at, updated_at) VALUES "
      "('c1', 'now', 'now'), ('c2', 'now', 'now')", []),
     ("INSERT INTO cluster_members (cluster_id, mention_id) VALUES ('c1', 'm1'), ('c1', 'm2'), "
      "('c2', 'm2'), ('c1', 'm3'), ('c1', 'm4'), ('c2', 'm7'), ('c2', 'm5')", [])],
    [("INSERT INTO mention_bands (key, mention_seq) VALUES (10, 1), (11, 1), (10, 2), (12, 3)",
      [])],
    [("UPDATE mentions SET published_at = '2024-05-20T00:30:00+01:00' WHERE id = 'm1'", [])],
    [("UPDATE mentions SET published_at = '2024-05-19T23:00:00Z' WHERE id = 'm6'", [])],
    [("UPDATE mentions SET language = 'ru' WHERE id = 'm3'", [])],
    [("UPDATE mentions SET language = 'ru' WHERE id = 'm3'", [])],
    [("UPDATE mentions SET duplicate_of = 'm1', fetched_at = 'later' WHERE id = 'm2'", [])],
    [("UPDATE mentions SET published_at = '2024-05-21' WHERE id = 'm4'", [])],
    [("DELETE FROM cluster_members WHERE cluster_id = 'c1' AND mention_id = 'm2'", [])],
    [("DELETE FROM mentions WHERE id = 'm2'", [])],
    [("DELETE FROM clusters WHERE id = 'c2'", [])],
    [("DELETE FROM mentions WHERE id IN ('m4', 'm5', 'm1')", [])],
]
KEPT = ["SELECT DISTINCT day FROM rollup_stale_days ORDER BY day",
        "SELECT cluster_id, day, members FROM cluster_days ORDER BY cluster_id, day",
        "SELECT key, mention_seq FROM mention_bands ORDER BY key, mention_seq"]


def test_triggers_keep_days_and_bands_as_sqlites_do(pg, lite):
    for step, statements in enumerate(STEPS):
        for sql, params in statements:
            lite.execute(sql, params)
            pg.execute(sql.replace("?", "%s"), params)
        for query in KEPT:
            assert pg.execute(query).fetchall() == lite.execute(query).fetchall(), (step, query)
        for side in (lite, pg):
            side.execute("DELETE FROM rollup_stale_days")


# SQLite's functions: each query gives SQLite's result for every input row.
TIMES = ["2024-01-01", "2024-01-01T10:00:00+03:00", "2024-01-01T01:00:00+03:00",
         "2024-01-01T23:30:00Z", "2024-01-01 23:30", "2024-01-01T23:30:00.123456+00:00",
         "2026-10-01T10:00:00+00:00", "2024-02-29T23:59:59.9996-00:30", "2023-02-30",
         "2024-01-01 24:00:00", "2023-02-30T10:00:00+03:00", "2024-01-01T10:00:00+0300",
         "2024-01-01T10:00:00 +03:00 ", "2024-13-01", "2024-01-32", "2024-01-01T10:60",
         " 2024-01-01", "2024-01-01Z", "2024-01-01t10:00", "10:00", "10:30:15-14:00",
         "2460310.5", "2024", "1e6", "-1", "5373484.5", "1704067200", "0000-01-01",
         "-0001-01-01", "9999-12-31T23:00:00-03:00", "1990-01-01T00:00:00+03:00",
         "２０２４-01-01", "вчера", "", "garbage", None]
MODIFIERS = [[], ["-7 days"], ["+1 day"], ["start of day"], ["start of month"],
             ["start of year"], ["weekday 0"], ["weekday 1"], ["+1 month"], ["+1.5 months"],
             ["-1 years"], ["+90 minutes"], ["-30.5 seconds"], ["+3 HOURS"], ["+01:30"],
             ["-01:30:15.5"], ["unixepoch"], ["start of week"], ["7days"], ["+7 dayss"],
             ["weekday 7"], ["+1 months", "-1 day"], ["start of month", "+1 month", "-1 day"],
             [""], ["+14713 years"], ["+1e1 days"], ["weekday  3"]]
if time.timezone == 0 and not time.daylight:  # SQLite's local time is the host's
    MODIFIERS += [["utc"], ["localtime"], ["localtime", "start of day"]]
FORMAT = "%Y-%m-%d %H:%M:%S %f %j %W %w %s %J %%"


@pytest.fixture(scope="module")
def inputs(pg):
    """The same rows in both databases, to call functions on a text column."""
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE inputs (id INTEGER PRIMARY KEY, v TEXT)")
    pg.execute("CREATE TEMP TABLE inputs (id bigint PRIMARY KEY, v text)")
    for n, value in enumerate(TIMES):
        lite.execute("INSERT INTO inputs VALUES (?, ?)", [n, value])
        pg.execute("INSERT INTO inputs VALUES (%s, %s)", [n, value])
    yield lite
    lite.close()


def both(pg, lite, sql, params=()):
    return (pg.execute(sql.replace("%", "%%").replace("?", "%s"), params).fetchall(),
            lite.execute(sql, params).fetchall())


@pytest.mark.parametrize("modifiers", MODIFIERS, ids=repr)
def test_date_functions_give_sqlites_results(pg, inputs, modifiers):
    mods = "".join(", ?" for _ in modifiers)
    for call in (f"date(v{mods})", f"datetime(v{mods})", f"julianday(v{mods})",
                 f"strftime('{FORMAT}', v{mods})"):
        found, expected = both(pg, inputs, f"SELECT v, {call} FROM inputs ORDER BY id",
                               modifiers)
        assert found == expected, call


def test_date_functions_take_literals_and_parameters(pg, inputs):
    for sql, params in [("SELECT datetime('2024-01-01T01:00:00+03:00')", []),
                        ("SELECT date('2024-01-01T01:00:00+03:00', '-7 days')", []),
                        ("SELECT date(?)", ["2024-01-01T01:00:00+03:00"]),
                        ("SELECT date(?, ?)", ["2024-01-01T01:00:00+03:00", "start of day"]),
                        ("SELECT datetime(?), julianday(?), strftime(?, ?)",
                         ["2024-05-17T10:00:00Z", "2024-05-17", "%Y-%W", "2024-05-17"]),
                        ("SELECT julianday(?) > julianday('now', '+1 day')", ["2999-01-01"])]:
        found, expected = both(pg, inputs, sql, params)
        assert [tuple(int(v) if isinstance(v, bool) else v for v in row)
                for row in found] == expected, sql


def test_date_of_one_string_literal_is_postgresqls_cast(pg):
    """PostgreSQL reads ``date('…')`` as a cast to its date type (the local day, an error
    for bad text); such a call must name the type: ``date(CAST('…' AS TEXT))``."""
    (day,) = pg.execute("SELECT date('2024-01-01T01:00:00+03:00')").fetchone()
    assert not isinstance(day, str)
    assert pg.execute("SELECT date(CAST('2024-01-01T01:00:00+03:00' AS TEXT))").fetchone() \
        == ("2023-12-31",)


DOCUMENTS = ['["m1", "m2", 3, 2.5, true, false, null, [1, 2], {"b": 1}, 1e3, -0, 1.0]',
             '{"a": 1, "b": "x", "a": 2, "Ж": "ё"}', '5', '"s"', "[]", None]


def test_json_each_gives_sqlites_rows(pg, inputs):
    for document in DOCUMENTS:
        found, expected = both(pg, inputs, "SELECT CAST(key AS TEXT), CAST(value AS TEXT), "
                               "type FROM json_each(?)", [document])
        assert found == expected, document


def test_json_extract_gives_sqlites_values(pg, inputs):
    document = ('{"a": {"b": [10, "x", true, null, 1.5, {"c": 2}]}, "n": 5.0, "m": 6, '
                '"brand": "Волна", "a b": 7, "staff": false}')
    for path in ["$.a.b[0]", "$.a.b[1]", "$.a.b[2]", "$.a.b[3]", "$.a.b[4]", "$.a.b[5]",
                 "$.a.b[5].c", "$.a.b", "$.n", "$.m", "$.zz", "$", "$.a.b[9]", "$.a.b[#-1]",
                 '$."a b"', "$.brand", "$.staff", "$.brand.x", "$[0]"]:
        found, expected = both(pg, inputs, "SELECT CAST(json_extract(?, ?) AS TEXT)",
                               [document, path])
        assert found == expected, path
    assert both(pg, inputs, "SELECT json_extract(NULL, '$.a')") == ([(None,)], [(None,)])
    # a key written twice (never by the store): a path of one key reads the last value
    twice = '{"n": 5.0, "n": 6}'
    found, expected = both(pg, inputs, "SELECT json_extract(?, '$.n')", [twice])
    assert (found, expected) == ([("6",)], [(5.0,)])


@pytest.fixture(scope="module")
def rows(pg):
    """Typed rows in both databases for the aggregates and multi-argument functions."""
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x TEXT, i INTEGER, r REAL)")
    pg.execute("CREATE TEMP TABLE t (id bigint PRIMARY KEY, g text, x text, i bigint, "
               "r double precision)")
    for row in [(1, "a", "negative", 3, 2.5), (2, "a", "положительный", None, 5.0),
                (3, "a", None, 7, None), (4, "b", "", -2, 0.1), (5, "b", "negative", 0, -1.0),
                (6, "c", None, None, None), (7, "a", "negative", 3, 1e20)]:
        lite.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", row)
        pg.execute("INSERT INTO t VALUES (%s, %s, %s, %s, %s)", row)
    yield lite
    lite.close()


@pytest.mark.parametrize("query", [
    "SELECT g, group_concat(x), group_concat(x, ' | ') FROM (SELECT * FROM t ORDER BY id) s "
    "GROUP BY g ORDER BY g",
    "SELECT g, sum(x = 'negative'), total(x = 'negative'), total(i), total(r) FROM t "
    "GROUP BY g ORDER BY g",
    "SELECT sum(x = 'negative'), total(i), group_concat(x) FROM t WHERE id > 100",
    "SELECT g, json_group_array(x) FROM (SELECT * FROM t ORDER BY id) s GROUP BY g ORDER BY g",
    "SELECT json_group_array(x) FROM t WHERE id > 100",
    "SELECT id, json_object('phase', x, 'observed', r), json_object('n', i) FROM t ORDER BY id",
    "SELECT id, instr(x, 'ив'), instr(x, ''), instr(x, 'NEG'), instr(x, 'g') > 0 FROM t "
    "ORDER BY id",
    "SELECT id, max(i, r), min(i, r), max(i, 0, r), min(r, 1.5, i), max(x, 'n') FROM t "
    "ORDER BY id",
    "SELECT max(1, 2.5), max(3, 2.5), min(1, NULL), max('10', '9'), min(2, 1, 3)",
])
def test_functions_and_aggregates_give_sqlites_results(pg, rows, query):
    found, expected = both(pg, rows, query)
    assert [tuple(int(v) if isinstance(v, bool) else v for v in row)
            for row in found] == expected


def test_group_concat_distinct_keeps_each_value_once(pg, rows):
    found, expected = both(pg, rows, "SELECT group_concat(DISTINCT x) FROM t")
    assert sorted(found[0][0].split(",")) == sorted(expected[0][0].split(","))
