"""The database schema, as an ordered list of migrations that are safe to re-run."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

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


def _run(db: Database, script: str) -> None:
    """Run each statement of ``script`` inside the migration's open transaction.

    ``executescript`` would commit first, so statements are executed one by one.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
