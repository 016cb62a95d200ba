"""Per-engine selectors for HTML forums, loaded from ``engines.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

ENGINES_FILE = Path(__file__).with_name("engines.yaml")


@dataclass(frozen=True)
class Engine:
    """CSS selectors that find boards, topics and posts on one forum engine's pages."""

    name: str
    topic_link: str
    topic_replies: str
    board_next: str
    thread_param: str
    topic_title: str
    post: str
    permalink: str
    author: str
    author_url: str
    date: str
    body: str
    quote: str
    quote_author: str
    quote_author_pattern: str
    edited: str
    topic_next: str


@cache
def engines() -> dict[str, Engine]:
    """All known engines by name."""
    data = yaml.safe_load(ENGINES_FILE.read_text(encoding="utf-8"))
    return {name: Engine(name=name, **selectors) for name, selectors in data.items()}


def engine(name: str) -> Engine:
    """The engine called ``name``; an unknown name lists the known ones."""
    known = engines()
    if name not in known:
        raise ValueError(f"unknown forum engine {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
