"""The database schema, as an ordered list of migrations that are safe to re-run."""

from __future__ import annotations

import json
import secrets

from sqlite_utils import Database, Migrations

from store.identity import canonical_url, mention_id, without_session

MIGRATIONS = Migrations("otklik")


@MIGRATIONS()
def m001_core(db: Database) -> None:
    """Sources, authors, mentions with edit history and full-text search."""
    _run(
        db,
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            url TEXT,
            title TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE authors (
            id TEXT PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id),
            handle TEXT NOT NULL,
            display_name TEXT,
            profile_url TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            UNIQUE (source_id, handle)
        );
        CREATE TABLE mentions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            source_id TEXT NOT NULL REFERENCES sources(id),
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('post', 'comment', 'review', 'article', 'reply')),
            thread_id TEXT,
            parent_id TEXT,
            author_id TEXT REFERENCES authors(id),
            published_at TEXT,
            fetched_at TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            quotes TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            rating REAL,
            rating_max REAL,
            likes INTEGER,
            replies INTEGER,
            views INTEGER,
            metadata TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            edited_at TEXT
        );
        CREATE INDEX mentions_source_published ON mentions (source_id, published_at);
        CREATE INDEX mentions_published ON mentions (published_at);
        CREATE INDEX mentions_author ON mentions (author_id);
        CREATE INDEX mentions_thread ON mentions (source_id, thread_id);
        CREATE TABLE mention_history (
            id INTEGER PRIMARY KEY,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            quotes TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            replaced_at TEXT NOT NULL
        );
        CREATE INDEX mention_history_mention ON mention_history (mention_id);
        CREATE VIRTUAL TABLE mentions_fts USING fts5(title, text, tokenize = 'trigram');
        """,
    )


@MIGRATIONS()
def m002_tags(db: Database) -> None:
    """Tags per mention, entity and touchpoint hits with evidence, human corrections."""
    _run(
        db,
        """
        CREATE TABLE tags (
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT,
            score REAL,
            model TEXT NOT NULL,
            model_version TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            evidence TEXT,
            tagged_at TEXT NOT NULL,
            PRIMARY KEY (mention_id, name)
        );
        CREATE INDEX tags_name_value ON tags (name, value);
        CREATE TABLE hits (
            id INTEGER PRIMARY KEY,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL
                CHECK (kind IN ('brand', 'product', 'competitor', 'touchpoint', 'intent',
                                'entity')),
            key TEXT NOT NULL,
            label TEXT,
            sentiment TEXT,
            confidence REAL,
            start INTEGER,
            end INTEGER,
            evidence TEXT,
            method TEXT,
            model_version TEXT
        );
        CREATE INDEX hits_mention ON hits (mention_id);
        CREATE INDEX hits_kind_key ON hits (kind, key);
        CREATE TABLE corrections (
            id INTEGER PRIMARY KEY,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            field TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT NOT NULL,
            note TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX corrections_mention ON corrections (mention_id);
        """,
    )


@MIGRATIONS()
def m003_insights(db: Database) -> None:
    """Complaint clusters, alerts, advocate scores and the customers-at-risk statuses."""
    _run(
        db,
        """
        CREATE TABLE clusters (
            id TEXT PRIMARY KEY,
            label TEXT,
            terms TEXT NOT NULL DEFAULT '[]',
            size INTEGER NOT NULL DEFAULT 0,
            details TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE cluster_members (
            cluster_id TEXT NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            score REAL,
            representative INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (cluster_id, mention_id)
        );
        CREATE INDEX cluster_members_mention ON cluster_members (mention_id);
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            brand TEXT,
            product TEXT,
            touchpoint TEXT,
            source_id TEXT,
            started_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'acknowledged', 'resolved')),
            magnitude REAL,
            baseline REAL,
            terms TEXT NOT NULL DEFAULT '[]',
            example_ids TEXT NOT NULL DEFAULT '[]',
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX alerts_key ON alerts (key, started_at);
        CREATE TABLE advocate_scores (
            author_id TEXT NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
            brand TEXT NOT NULL,
            score REAL NOT NULL,
            components TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (author_id, brand)
        );
        CREATE TABLE risk_status (
            author_id TEXT PRIMARY KEY REFERENCES authors(id) ON DELETE CASCADE,
            status TEXT NOT NULL CHECK (status IN ('new', 'contacted', 'resolved')),
            note TEXT,
            updated_at TEXT NOT NULL
        );
        """,
    )


@MIGRATIONS()
def m004_crawl(db: Database) -> None:
    """Crawl state per source, crawl runs with their counts, and the erasure log."""
    _run(
        db,
        """
        CREATE TABLE crawl_state (
            source_id TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source_id, key)
        );
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',
            stats TEXT NOT NULL DEFAULT '{}',
            flags TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX crawl_runs_source ON crawl_runs (source_id, started_at);
        CREATE TABLE erasures (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            erased_at TEXT NOT NULL,
            counts TEXT NOT NULL
        );
        """,
    )


@MIGRATIONS()
def m005_near_duplicates(db: Database) -> None:
    """MinHash signatures and LSH band keys, to mark cross-posted near-duplicates."""
    _run(
        db,
        """
        ALTER TABLE mentions ADD COLUMN duplicate_of TEXT;
        ALTER TABLE mentions ADD COLUMN minhash BLOB;
        CREATE TABLE mention_bands (
            key INTEGER NOT NULL,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            PRIMARY KEY (key, mention_id)
        ) WITHOUT ROWID;
        CREATE INDEX mention_bands_mention ON mention_bands (mention_id);
        """,
    )


@MIGRATIONS()
def m006_embeddings(db: Database) -> None:
    """Sentence-embedding vectors per mention, kept by the tagger for the insights stage."""
    _run(
        db,
        """
        CREATE TABLE embeddings (
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            model TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (mention_id, model)
        );
        """,
    )


@MIGRATIONS()
def m007_hit_sentence(db: Database) -> None:
    """Which sentence a hit was found in, and details (churn target, a product's brand)."""
    _run(
        db,
        """
        ALTER TABLE hits ADD COLUMN sentence INTEGER;
        ALTER TABLE hits ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
        """,
    )


@MIGRATIONS()
def m008_bands_by_seq(db: Database) -> None:
    """LSH band rows keyed by the mention's integer ``seq`` (half the size, no foreign-key
    lookup per row: storing a post writes eight of them); a trigger removes them with the
    mention."""
    _run(
        db,
        """
        CREATE TABLE mention_bands_by_seq (
            key INTEGER NOT NULL,
            mention_seq INTEGER NOT NULL,
            PRIMARY KEY (key, mention_seq)
        ) WITHOUT ROWID;
        INSERT INTO mention_bands_by_seq (key, mention_seq)
            SELECT b.key, m.seq FROM mention_bands b JOIN mentions m ON m.id = b.mention_id;
        DROP TABLE mention_bands;
        ALTER TABLE mention_bands_by_seq RENAME TO mention_bands;
        CREATE INDEX mention_bands_mention ON mention_bands (mention_seq);
        """,
    )
    db.execute(  # one statement: its body holds semicolons
        """CREATE TRIGGER mention_bands_follow AFTER DELETE ON mentions
           BEGIN DELETE FROM mention_bands WHERE mention_seq = old.seq; END"""
    )


@MIGRATIONS()
def m009_rollups(db: Database) -> None:
    """Indexes the dashboard reads by (a mention's hits by kind, an author's posts by time,
    languages, question hits, negative and churn hits), the daily roll-ups of brand mentions
    (``brand_days``, ``touchpoint_days``, ``author_days``) and members of complaint clusters
    per day (``cluster_days``, kept by triggers). Triggers mark the UTC day of every change
    that moves a roll-up (mentions, sentiment tags, hits, corrections) in
    ``rollup_stale_days``; readers compute those days afresh until ``otklik analyze`` stores
    them again. Every existing day starts stale."""
    _run(
        db,
        """
        CREATE INDEX IF NOT EXISTS hits_mention_kind_key ON hits (mention_id, kind, key);
        DROP INDEX IF EXISTS hits_mention;
        CREATE INDEX mentions_author_published ON mentions (author_id, published_at);
        DROP INDEX IF EXISTS mentions_author;
        CREATE INDEX mentions_language ON mentions (language);
        CREATE TABLE brand_days (
            day TEXT NOT NULL,
            brand TEXT NOT NULL,
            brands TEXT NOT NULL,
            product TEXT NOT NULL,
            source_id TEXT NOT NULL,
            language TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            mentions INTEGER NOT NULL,
            negative INTEGER NOT NULL,
            neutral INTEGER NOT NULL,
            positive INTEGER NOT NULL,
            PRIMARY KEY (day, brand, brands, product, source_id, language, sentiment)
        ) WITHOUT ROWID;
        CREATE TABLE touchpoint_days (
            day TEXT NOT NULL,
            touchpoint TEXT NOT NULL,
            brand TEXT NOT NULL,
            brands TEXT NOT NULL,
            product TEXT NOT NULL,
            source_id TEXT NOT NULL,
            language TEXT NOT NULL,
            sentiment TEXT NOT NULL,
            mentions INTEGER NOT NULL,
            negative INTEGER NOT NULL,
            PRIMARY KEY (day, touchpoint, brand, brands, product, source_id, language, sentiment)
        ) WITHOUT ROWID;
        CREATE TABLE author_days (
            day TEXT NOT NULL,
            brand TEXT NOT NULL,
            author_id TEXT NOT NULL,
            source_id TEXT NOT NULL,
            language TEXT NOT NULL,
            mentions INTEGER NOT NULL,
            positive INTEGER NOT NULL,
            negative INTEGER NOT NULL,
            recommended INTEGER NOT NULL,
            churned INTEGER NOT NULL,
            PRIMARY KEY (day, brand, author_id, source_id, language)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_stale_days (day TEXT PRIMARY KEY) WITHOUT ROWID;
        INSERT INTO rollup_stale_days (day)
            SELECT DISTINCT date(published_at) FROM mentions
            WHERE date(published_at) IS NOT NULL;
        CREATE INDEX hits_question ON hits (mention_id)
            WHERE kind = 'intent' AND key = 'question';
        CREATE INDEX hits_negative_or_churn ON hits (mention_id)
            WHERE sentiment = 'negative' OR (kind = 'intent' AND key = 'churn');
        CREATE TABLE cluster_days (
            cluster_id TEXT NOT NULL,
            day TEXT NOT NULL,
            members INTEGER NOT NULL,
            PRIMARY KEY (cluster_id, day)
        ) WITHOUT ROWID;
        INSERT INTO cluster_days (cluster_id, day, members)
            SELECT c.cluster_id, date(m.published_at), count(*)
            FROM cluster_members c JOIN mentions m ON m.id = c.mention_id
            WHERE date(m.published_at) IS NOT NULL GROUP BY 1, 2
        """,
    )
    for trigger in _STALE_TRIGGERS + _CLUSTER_DAY_TRIGGERS:  # their bodies hold semicolons
        db.execute(trigger)


@MIGRATIONS()
def m010_webhook_deliveries(db: Database) -> None:
    """What the alert webhook was sent: one row per alert state (``phase`` open or ended,
    ``observed`` negatives), whether it got through (``sent``) or is still ``failed`` and
    will be tried again, the number of attempts and the last error."""
    _run(
        db,
        """
        CREATE TABLE webhook_deliveries (
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            phase TEXT NOT NULL CHECK (phase IN ('open', 'ended')),
            observed REAL NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('opened', 'grown', 'ended')),
            status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 1,
            error TEXT,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (alert_id, phase, observed)
        );
        """,
    )


@MIGRATIONS()
def m011_customer_rollups(db: Database) -> None:
    """Every stored day stale once: the author roll-ups now count customers only (channels,
    news feeds, articles and forum staff left out), so days stored before are built again."""
    _run(db, "INSERT OR IGNORE INTO rollup_stale_days (day) SELECT DISTINCT day FROM author_days")


@MIGRATIONS()
def m012_erased_authors(db: Database) -> None:
    """The store's own secret key (``store_secrets``) and the record of erased authors:
    a keyed hash (HMAC-SHA256 with that key) of the source and the normalised handle, or a
    display name, never the name itself, so that later writes can refuse them."""
    _run(
        db,
        """
        CREATE TABLE store_secrets (
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        CREATE TABLE erased_authors (
            source_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('handle', 'name')),
            digest TEXT NOT NULL,
            PRIMARY KEY (source_id, kind, digest)
        ) WITHOUT ROWID;
        """,
    )
    db.execute("INSERT INTO store_secrets (name, value) VALUES ('erasure_key', ?)",
               [secrets.token_bytes(32)])


@MIGRATIONS()
def m013_implausible_dates(db: Database) -> None:
    """Publication dates more than a day after the migration runs, or before 1990, were
    misread: they become unknown (NULL), as the crawler now stores them, so one such post
    no longer sets the latest day of the store. Triggers mark the days they leave stale."""
    db.execute(
        """UPDATE mentions SET published_at = NULL
           WHERE julianday(published_at) > julianday('now', '+1 day')
              OR julianday(published_at) < julianday('1990-01-01')"""
    )


@MIGRATIONS()
def m014_crawl_run_process(db: Database) -> None:
    """The process running each crawl, so that a run whose process was killed shows as
    interrupted rather than running for ever."""
    _run(db, """ALTER TABLE crawl_runs ADD COLUMN pid INTEGER;
                ALTER TABLE crawl_runs ADD COLUMN host TEXT""")


@MIGRATIONS()
def m015_canonical_urls(db: Database) -> None:
    """Mentions re-keyed by the canonical URL that normalises percent-encoding and drops
    session ids (``/тема/5`` and ``/%D1%82…/5`` are one post; ``sid=`` is no part of it).
    Every mention's ``id``, ``canonical_url`` and stored ``url`` are computed again; where
    two rows become one post, the earliest (lowest ``seq``) stays and takes the other's tags,
    hits, history, corrections, cluster places and embeddings (its own win where both have
    one), the references to it (``parent_id``, ``duplicate_of``, alerts' examples) and the
    other is deleted with its search row. Re-running it changes nothing."""
    moves, seen = [], {}
    for seq, old_id, source_id, url, canonical in db.execute(
            "SELECT seq, id, source_id, url, canonical_url FROM mentions ORDER BY seq"):
        new_id, stored, new_canonical = (mention_id(source_id, url), without_session(url),
                                         canonical_url(url))
        keep = new_id not in seen
        seen.setdefault(new_id, seq)
        if new_id != old_id or not keep or canonical != new_canonical or url != stored:
            moves.append((seq, old_id, new_id, int(keep), stored, new_canonical))
    if not moves:
        return
    db.execute("PRAGMA defer_foreign_keys = ON")  # ids and references move one at a time
    _run(db, """DROP TABLE IF EXISTS temp.rekeyed;
        CREATE TEMP TABLE rekeyed (seq INTEGER PRIMARY KEY, old_id TEXT NOT NULL UNIQUE,
            new_id TEXT NOT NULL, keep INTEGER NOT NULL, url TEXT NOT NULL,
            canonical_url TEXT NOT NULL, parked TEXT NOT NULL UNIQUE)""")
    db.conn.executemany(
        "INSERT INTO temp.rekeyed VALUES (?, ?, ?, ?, ?, ?, '~' || ?)",
        [(*move, move[0]) for move in moves])
    dependants = _mention_dependants(db)
    # Every moved row and what depends on it is parked on a placeholder id ("~seq"), so
    # that no new id is taken while the rows are re-keyed.
    for table, column in dependants:
        db.execute(f"""UPDATE {table} SET {column} = (SELECT parked FROM temp.rekeyed
                       WHERE old_id = {table}.{column})
                       WHERE {column} IN (SELECT old_id FROM temp.rekeyed)""")
    _run(db, """UPDATE mentions SET id = (SELECT parked FROM temp.rekeyed r
            WHERE r.seq = mentions.seq) WHERE seq IN (SELECT seq FROM temp.rekeyed);
        UPDATE mentions SET id = r.new_id, url = r.url, canonical_url = r.canonical_url
            FROM temp.rekeyed r WHERE r.seq = mentions.seq AND r.keep""")
    for table, column in dependants:
        for keep in (1, 0):  # the kept row's own first: they win where both have one
            db.execute(f"""UPDATE OR IGNORE {table} SET {column} = (SELECT new_id
                           FROM temp.rekeyed WHERE parked = {table}.{column})
                           WHERE {column} IN (SELECT parked FROM temp.rekeyed
                                              WHERE keep = {keep})""")
        db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT parked FROM temp.rekeyed)")
    for column in ("parent_id", "duplicate_of"):
        db.execute(f"""UPDATE mentions SET {column} = (SELECT new_id FROM temp.rekeyed
                       WHERE old_id = mentions.{column})
                       WHERE {column} IN (SELECT old_id FROM temp.rekeyed)""")
    _run(db, """UPDATE mentions SET duplicate_of = NULL WHERE duplicate_of = id;
        DELETE FROM mentions_fts WHERE rowid IN (SELECT seq FROM temp.rekeyed WHERE NOT keep);
        DELETE FROM mentions WHERE seq IN (SELECT seq FROM temp.rekeyed WHERE NOT keep)""")
    renamed = {old: new for _, old, new, *_ in moves if old != new}
    for alert_id, examples in db.execute("SELECT id, example_ids FROM alerts").fetchall():
        ids = json.loads(examples or "[]")
        kept = list(dict.fromkeys(renamed.get(example, example) for example in ids))
        if kept != ids:
            db.execute("UPDATE alerts SET example_ids = ? WHERE id = ?",
                       [json.dumps(kept), alert_id])
    if db.execute("SELECT 1 FROM temp.rekeyed WHERE NOT keep LIMIT 1").fetchone():
        _run(db, """DELETE FROM cluster_days;
            INSERT INTO cluster_days (cluster_id, day, members)
                SELECT c.cluster_id, date(m.published_at), count(*)
                FROM cluster_members c JOIN mentions m ON m.id = c.mention_id
                WHERE date(m.published_at) IS NOT NULL GROUP BY 1, 2""")
    db.execute("DROP TABLE temp.rekeyed")


@MIGRATIONS()
def m016_incidents(db: Database) -> None:
    """Incidents: the alerts of one brand that one event raised (their windows overlap and
    their posts or words agree), each alert a slice of it (``alerts.incident_id``); the
    negative posts of every alert (``alert_posts``), which the grouping compares; and what
    the webhook was sent per incident (``incident_deliveries``, as ``webhook_deliveries``
    for alerts). ``state`` is what the data say (open while it lasts, then ended);
    ``status`` a person's decision, kept across runs as an alert's is."""
    _run(
        db,
        """
        CREATE TABLE incidents (
            id INTEGER PRIMARY KEY,
            brand TEXT NOT NULL,
            started_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('open', 'ended')),
            status TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'acknowledged', 'resolved')),
            posts INTEGER NOT NULL,
            magnitude REAL,
            period TEXT NOT NULL CHECK (period IN ('hour', 'day')),
            touchpoints TEXT NOT NULL DEFAULT '[]',
            products TEXT NOT NULL DEFAULT '[]',
            terms TEXT NOT NULL DEFAULT '[]',
            example_ids TEXT NOT NULL DEFAULT '[]',
            course TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX incidents_last_seen ON incidents (last_seen_at);
        ALTER TABLE alerts ADD COLUMN incident_id INTEGER
            REFERENCES incidents(id) ON DELETE SET NULL;
        CREATE INDEX alerts_incident ON alerts (incident_id);
        CREATE TABLE alert_posts (
            alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            PRIMARY KEY (alert_id, mention_id)
        ) WITHOUT ROWID;
        CREATE INDEX alert_posts_mention ON alert_posts (mention_id);
        CREATE TABLE incident_deliveries (
            incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
            phase TEXT NOT NULL CHECK (phase IN ('open', 'ended')),
            observed REAL NOT NULL,
            event TEXT NOT NULL CHECK (event IN ('opened', 'grown', 'ended')),
            status TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 1,
            error TEXT,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, phase, observed)
        );
        """,
    )


@MIGRATIONS()
def m017_complaint_themes(db: Database) -> None:
    """Complaint clusters on two levels: ``parent_id`` names the theme a cluster (sub-theme)
    belongs to, ``NULL`` for a theme (and for the flat clusters of earlier runs, which the
    next ``otklik analyze`` replaces); ``title`` is a short complaint written by one of its
    posts. Themes keep members like clusters, so their trends come from ``cluster_days``."""
    _run(db, """ALTER TABLE clusters ADD COLUMN title TEXT;
        ALTER TABLE clusters ADD COLUMN parent_id TEXT
            REFERENCES clusters(id) ON DELETE CASCADE""")


@MIGRATIONS()
def m018_touchpoint_models(db: Database) -> None:
    """The touchpoint model learned for this store, the sentences it asks people to label,
    and sentence-level corrections (``sentence``: the index of the sentence labelled)."""
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS touchpoint_models (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            fingerprint TEXT NOT NULL,
            version TEXT NOT NULL,
            corpus INTEGER NOT NULL,
            fitted_at TEXT NOT NULL,
            model BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS review_queue (
            mention_id TEXT NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
            sentence INTEGER NOT NULL,
            text TEXT NOT NULL,
            touchpoint TEXT NOT NULL,
            probability REAL NOT NULL,
            rank INTEGER NOT NULL,
            PRIMARY KEY (mention_id, sentence, touchpoint)
        )
        """,
    )
    if "sentence" not in {c.name for c in db["corrections"].columns}:
        db.execute("ALTER TABLE corrections ADD COLUMN sentence INTEGER")



@MIGRATIONS()
def m019_tag_claims(db: Database) -> None:
    """Mentions a tagging worker has claimed (``worker``: ``host:pid``), until it writes their
    tags or its lease (ISO time) runs out; the rows of one claim share ``claimed_at``."""
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS tag_claims (
            mention_id TEXT PRIMARY KEY REFERENCES mentions(id) ON DELETE CASCADE,
            worker TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            claimed_at TEXT NOT NULL,
            lease_until TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS tag_claims_worker ON tag_claims (worker);
        CREATE INDEX IF NOT EXISTS tag_claims_lease ON tag_claims (lease_until)
        """,
    )


@MIGRATIONS()
def m020_sentiment_adapters(db: Database) -> None:
    """The store's own correction of the sentiment model, fitted on people's sentiment labels
    (``labels``: how many taught it)."""
    _run(
        db,
        """
        CREATE TABLE IF NOT EXISTS sentiment_adapters (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            fingerprint TEXT NOT NULL,
            version TEXT NOT NULL,
            labels INTEGER NOT NULL,
            fitted_at TEXT NOT NULL,
            model BLOB NOT NULL
        )
        """,
    )


def _mention_dependants(db: Database) -> list[tuple[str, str]]:
    """Every ``(table, column)`` whose foreign key names ``mentions.id``."""
    tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return [(table, key[3]) for table in tables
            for key in db.execute(f"PRAGMA foreign_key_list('{table}')")
            if key[2] == "mentions" and key[4] == "id"]


# Trigger bodies carry no ON CONFLICT clause: the conflict policy of the statement firing
# the trigger (an upsert of a tag, an INSERT OR REPLACE) would override it.
_MARK = """INSERT INTO rollup_stale_days (day) SELECT changed.day FROM (SELECT {} AS day) changed
    WHERE changed.day IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM rollup_stale_days s WHERE s.day = changed.day)"""
_DAY_OF = "date({}.published_at)"
_DAY_OF_MENTION = "(SELECT date(published_at) FROM mentions WHERE id = {}.mention_id)"


def _mark(row: str, of_mention: bool = True) -> str:
    """The statement marking the day of the ``old`` or ``new`` row (its mention's) stale."""
    return _MARK.format((_DAY_OF_MENTION if of_mention else _DAY_OF).format(row))


_STALE_TRIGGERS = [
    f"""CREATE TRIGGER rollup_mention_insert AFTER INSERT ON mentions
        BEGIN {_mark("new", of_mention=False)}; END""",
    f"""CREATE TRIGGER rollup_mention_delete AFTER DELETE ON mentions
        BEGIN {_mark("old", of_mention=False)}; END""",
    f"""CREATE TRIGGER rollup_mention_update AFTER UPDATE OF published_at, duplicate_of,
            language, source_id, author_id ON mentions
        WHEN old.published_at IS NOT new.published_at OR old.duplicate_of IS NOT new.duplicate_of
          OR old.language IS NOT new.language OR old.source_id IS NOT new.source_id
          OR old.author_id IS NOT new.author_id
        BEGIN {_mark("old", of_mention=False)}; {_mark("new", of_mention=False)}; END""",
    f"""CREATE TRIGGER rollup_tag_insert AFTER INSERT ON tags WHEN new.name = 'sentiment'
        BEGIN {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_tag_update AFTER UPDATE ON tags
        WHEN 'sentiment' IN (old.name, new.name)
        BEGIN {_mark("old")}; {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_tag_delete AFTER DELETE ON tags WHEN old.name = 'sentiment'
        BEGIN {_mark("old")}; END""",
    f"""CREATE TRIGGER rollup_hit_insert AFTER INSERT ON hits WHEN new.kind != 'entity'
        BEGIN {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_hit_update AFTER UPDATE ON hits
        BEGIN {_mark("old")}; {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_hit_delete AFTER DELETE ON hits WHEN old.kind != 'entity'
        BEGIN {_mark("old")}; END""",
    f"""CREATE TRIGGER rollup_correction_insert AFTER INSERT ON corrections
        BEGIN {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_correction_update AFTER UPDATE ON corrections
        BEGIN {_mark("old")}; {_mark("new")}; END""",
    f"""CREATE TRIGGER rollup_correction_delete AFTER DELETE ON corrections
        BEGIN {_mark("old")}; END""",
]

# Members of complaint clusters per day of publication, kept by SQLite as members come and
# go. A member erased with its mention is counted out before the mention goes: the cascade
# that then deletes the member runs when the mention is already gone, and counts nothing.
_IN = """UPDATE cluster_days SET members = members + 1 WHERE {clusters} AND day = {day};
    INSERT INTO cluster_days (cluster_id, day, members)
    SELECT c.cluster_id, {day}, 1 FROM ({members}) c WHERE {day} IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM cluster_days d WHERE d.cluster_id = c.cluster_id
                    AND d.day = {day})"""
_OUT = """UPDATE cluster_days SET members = members - 1 WHERE {clusters} AND day = {day};
    DELETE FROM cluster_days WHERE {clusters} AND day = {day} AND members <= 0"""
_CLUSTERS_OF = "SELECT cluster_id FROM cluster_members WHERE mention_id = {}.id"
_CLUSTER_DAY_TRIGGERS = [
    f"""CREATE TRIGGER cluster_days_member_in AFTER INSERT ON cluster_members
        BEGIN {_IN.format(clusters="cluster_id = new.cluster_id",
                          members="SELECT new.cluster_id AS cluster_id",
                          day=_DAY_OF_MENTION.format("new"))}; END""",
    f"""CREATE TRIGGER cluster_days_member_out AFTER DELETE ON cluster_members
        BEGIN {_OUT.format(clusters="cluster_id = old.cluster_id",
                           day=_DAY_OF_MENTION.format("old"))}; END""",
    f"""CREATE TRIGGER cluster_days_mention_out BEFORE DELETE ON mentions
        BEGIN {_OUT.format(clusters=f"cluster_id IN ({_CLUSTERS_OF.format('old')})",
                           day=_DAY_OF.format("old"))}; END""",
    f"""CREATE TRIGGER cluster_days_mention_moved AFTER UPDATE OF published_at ON mentions
        WHEN date(old.published_at) IS NOT date(new.published_at)
        BEGIN {_OUT.format(clusters=f"cluster_id IN ({_CLUSTERS_OF.format('new')})",
                           day=_DAY_OF.format("old"))};
        {_IN.format(clusters=f"cluster_id IN ({_CLUSTERS_OF.format('new')})",
                    members=_CLUSTERS_OF.format("new"), day=_DAY_OF.format("new"))}; END""",
]


def _run(db: Database, script: str) -> None:
    """Run each statement of ``script`` inside the migration's open transaction.

    ``executescript`` would commit first, so statements are executed one by one.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
