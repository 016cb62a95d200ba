"""Per-engine selectors for HTML forums, loaded from ``engines.yaml``.

An engine is data only: CSS selectors (Scrapy's dialect, with ``::text`` and ``::attr(name)``;
a selector starting with ``xpath:`` is XPath) and a few regular expressions. A selector field
may be one selector or a list of alternatives; how a list is used depends on the field:

* value fields (links, names, dates, counts): the alternatives are tried in order and the first
  one that finds something non-blank wins. For ``date``, ``topic_last_date`` and
  ``edited_date`` every alternative is a candidate, in order, so a machine-readable attribute
  listed first is preferred and the visible text after it is the fallback;
* element fields (``topic_row``, ``post``, ``body``, ``quote``): the first alternative that
  matches anything gives the elements;
* drop fields (``body_drop``, ``quote_drop``): every alternative's elements are removed.

A value selector that ends on an element (no ``::text`` / ``::attr``) means that element's
whole visible text, whitespace collapsed.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, fields
from functools import cache
from pathlib import Path

import yaml

ENGINES_FILE = Path(__file__).with_name("engines.yaml")

Selectors = tuple[str, ...]
DEFAULT_QUOTE_AUTHOR = r"^\s*(.+?)\s*$"


@dataclass(frozen=True)
class Engine:
    """Where one forum engine keeps boards, topics and posts on its pages."""

    name: str
    # A board page: one row per topic, and what the row shows of the topic's last activity.
    topic_row: Selectors
    topic_link: Selectors
    board_next: Selectors
    # A topic page.
    thread_id_pattern: str
    topic_title: Selectors
    post: Selectors
    permalink: Selectors
    author: Selectors
    date: Selectors
    body: Selectors
    topic_next: Selectors
    # Optional parts (empty: the engine shows no such thing).
    topic_replies: Selectors = ()
    topic_last_date: Selectors = ()
    topic_last_link: Selectors = ()
    author_url: Selectors = ()
    body_drop: Selectors = ()
    quote: Selectors = ()
    quote_author: Selectors = ()
    quote_author_pattern: str = DEFAULT_QUOTE_AUTHOR
    quote_drop: Selectors = ()
    edited: Selectors = ()
    edited_date: Selectors = ()
    # A stable permalink built from the post id, where the page's own link carries a slug
    # that changes with the title: ``post_url`` (relative to the source URL, ``{id}`` is the
    # first group of ``post_id_pattern`` found in the page's permalink).
    post_id_pattern: str = ""
    post_url: str = ""


PATTERN_FIELDS = {"thread_id_pattern", "quote_author_pattern", "post_id_pattern", "post_url"}


def load_engine(name: str, data: dict) -> Engine:
    """One engine from its YAML mapping; unknown or missing keys raise ``ValueError``."""
    known = {f.name for f in fields(Engine)} - {"name"}
    required = {f.name for f in fields(Engine) if f.name != "name" and f.default is MISSING}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"engine {name!r}: unknown keys {', '.join(sorted(unknown))}")
    missing = required - set(data)
    if missing:
        raise ValueError(f"engine {name!r}: missing keys {', '.join(sorted(missing))}")
    values = {}
    for key, value in data.items():
        if key in PATTERN_FIELDS:
            if not isinstance(value, str):
                raise ValueError(f"engine {name!r}: {key} must be a string")
            if key.endswith("_pattern"):
                try:
                    re.compile(value)
                except re.error as error:
                    raise ValueError(f"engine {name!r}: {key} is not a regex: {error}") from None
            values[key] = value
        else:
            values[key] = _selectors(name, key, value)
    return Engine(name=name, **values)


def _selectors(name: str, key: str, value) -> Selectors:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(f"engine {name!r}: {key} must be a selector or a list of selectors")
    return tuple(item.strip() for item in items)


@cache
def engines() -> dict[str, Engine]:
    """All known engines by name."""
    data = yaml.safe_load(ENGINES_FILE.read_text(encoding="utf-8"))
    return {name: load_engine(name, selectors) for name, selectors in data.items()}


def engine(name: str) -> Engine:
    """The engine called ``name``; an unknown name lists the known ones."""
    known = engines()
    if name not in known:
        raise ValueError(f"unknown forum engine {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
