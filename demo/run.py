"""The demo's plumbing: the generated community is (re)written when stale, served on
127.0.0.1 while the real pipeline crawls it, and pointed at by a sources file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from demo.community import start_community
from demo.generate import DEFAULT_OUT, generate, write_sources

SEED = 42


def prepare_site(data_dir: Path = DEFAULT_OUT, db_path: Path | None = None) -> bool:
    """Generate the community unless today's is there; returns True when it was written.

    The content ends today, so a new day means new content: the old demo database (which
    holds yesterday's) is removed with it, and the demo starts afresh.
    """
    answers = data_dir / "answers.json"
    today = datetime.now(UTC).date().isoformat()
    if answers.exists() and json.loads(answers.read_text(encoding="utf-8"))["end"] == today:
        return False
    generate(data_dir, seed=SEED)
    if db_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return True


@contextmanager
def serve_site(data_dir: Path, port: int, sources_path: Path) -> Iterator[str]:
    """Serve the community on 127.0.0.1:``port`` while the block runs and write its sources
    file to ``sources_path``; yields the base URL."""
    try:
        server, base_url = start_community(data_dir, port)
    except OSError as error:
        raise ValueError(f"cannot serve the demo site on port {port}: {error.strerror}; "
                         "pass --port with a free one") from None
    try:
        write_sources(data_dir, base_url, sources_path)
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
