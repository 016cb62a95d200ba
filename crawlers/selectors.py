"""Applying an engine's selectors (see ``crawlers/engines.py``): every field is a tuple of
alternatives, CSS in Scrapy's dialect or ``xpath:…``."""

from __future__ import annotations

from crawlers.engines import Selectors


def query(selection, selector: str):
    """The nodes one selector finds."""
    if selector.startswith("xpath:"):
        return selection.xpath(selector.removeprefix("xpath:").strip())
    return selection.css(selector)


def elements(selection, queries: Selectors):
    """The elements of the first alternative that matches any."""
    for selector in queries:
        found = query(selection, selector)
        if found:
            return found
    return []


def all_elements(selection, queries: Selectors) -> list:
    """The elements of every alternative."""
    return [element for selector in queries for element in query(selection, selector)]


def value(node) -> str:
    """An attribute or text node's value, or an element's visible text; spaces collapsed."""
    text = node.root if isinstance(node.root, str) else "".join(node.css("::text").getall())
    return " ".join(text.split())


def first(selection, queries: Selectors) -> str | None:
    """The first non-blank value, trying the alternatives in order."""
    for selector in queries:
        for node in query(selection, selector):
            found = value(node)
            if found:
                return found
    return None


def candidates(selection, queries: Selectors) -> list[str]:
    """The first non-blank value of each alternative, in order (e.g. a ``datetime``
    attribute, then the visible text)."""
    found = []
    for selector in queries:
        one = first(selection, (selector,))
        if one:
            found.append(one)
    return found


def outermost(quotes):
    """The elements not nested in another of them (nested quotes are part of their quote)."""
    roots = {quote.root for quote in quotes}
    return [quote for quote in quotes
            if not any(ancestor in roots for ancestor in quote.root.iterancestors())]
