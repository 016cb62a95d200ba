"""Serving the bundled sample community and pointing a sources file at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from demo.site import start_server


@contextmanager
def serve_sample(port: int) -> Iterator[str]:
    """Serve the sample site on 127.0.0.1:``port`` while the block runs; yields its base URL."""
    try:
        server, base_url = start_server(port=port)
    except OSError as error:
        raise ValueError(f"cannot serve the sample site on port {port}: {error.strerror}; "
                         "pass --port with a free one") from None
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()


def sample_sources(base_url: str, path: Path) -> Path:
    """Write a sources file with the sample forum at ``base_url``; returns its path."""
    sources = {
        "sources": [
            {
                "id": "volna-community",
                "kind": "forum",
                "title": "Volna Community (sample)",
                "url": f"{base_url}/forum/",
                "brands": ["volna", "telenova"],
                "since_days": 3650,
                "options": {
                    "engine": "phpbb",
                    "boards": ["viewforum.php?f=1", "viewforum.php?f=2"],
                },
            }
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(sources, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path
