"""Reading a board page and a page's pagination without engine selectors.

A board page is a list of rows, one per topic, each holding links to that topic (its title,
its last post, its page numbers), a reply count and the last post's date. :func:`find_topics`
finds the links whose URL has a topic's shape, groups them by topic, and takes for each the
largest block around them that holds no other topic's link. :func:`next_page` finds the link
to the next page the way people do: ``rel="next"``, a "next" class, "Next ›" / "Далее" /
"Далі", or the number after the current one. Pure: an lxml tree in, URLs and texts out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from crawlers.post_dates import DATE_TEXT

# One topic's URL shapes, across engines; the first group is the topic's id.
TOPIC_URL = re.compile(
    r"viewtopic\.php\?(?:[^#]*?[&;])?t=(\d+)|viewtopic\.php\?(?:[^#]*?[&;])?id=(\d+)|"
    r"showthread\.php\?(?:[^#]*?&)?(?:t|tid)=(\d+)|showthread\.php\?(\d+)|"
    r"(?:^|/)threads/(?:[^/?#]*\.)?(\d+)(?:/|$|[?#])|index\.php\?topic=(\d+)|"
    r"[?&]showtopic=(\d+)|(?:^|/)topic/(\d+)|(?:^|/)discussion/(\d+)|"
    r"(?:^|/)forum/\d+-(\d+)(?:-\d+)?|(?:^|/)t/[^/?#]+/(\d+)|(?:^|/)topics?/(\d+)|"
    r"(?:^|/)thread/(\d+)|"
    r"(?<!/forum)(?<!/forums)(?<!/member)(?<!/members)(?<!/user)(?<!/users)(?<!/profile)"
    r"/(\d{2,})-[\w%-]+/?(?:page\d+)?(?:$|[?#])",
    re.IGNORECASE)
NEXT_TEXT = re.compile(r"^\s*(?:next(?:\s+page)?|следующая(?:\s+страница)?|далее|вперёд|вперед|"
                       r"наступна(?:\s+сторінка)?|далі)?\s*[›»>→]{0,2}\s*$", re.IGNORECASE)
NEXT_CLASS = re.compile(r"(?:^|[\s_-])(?:next|nextpage|pageNav-jump--next|pagination_next|"
                        r"pagination-next|pager-next|arrow_next)(?:$|[\s_-])", re.IGNORECASE)
CURRENT_CLASS = re.compile(r"current|active|curr|selected|pageNav-page--current",
                           re.IGNORECASE)
COUNT_HINT = re.compile(r"posts|replies|reply|stats|comments|answers|count", re.IGNORECASE)


@dataclass
class TopicRow:
    """What a board page shows of one topic."""

    url: str
    key: str
    replies: str | None
    dates: list[str]
    last_link: str | None


def topic_id(url: str) -> str | None:
    """The topic id in a topic URL of any common engine, or ``None``."""
    match = TOPIC_URL.search(url)
    return next((group for group in match.groups() if group), None) if match else None


def find_topics(root, page_url: str) -> list[TopicRow]:
    """The topics a board page lists, in page order (a topic listed twice, e.g. sticky and
    in a "recent" box, once)."""
    links: dict[str, list] = {}
    for link in root.iter("a"):
        href = link.get("href") or ""
        key = topic_id(href) if href and not href.startswith(("javascript:", "#")) else None
        if key:
            links.setdefault(key, []).append(link)
    marks = {id(link): key for key, found in links.items() for link in found}
    rows = []
    for key, found in links.items():
        row = found[0]
        parent = row.getparent()
        while parent is not None and all(
                marks.get(id(a)) in (None, key) for a in parent.iter("a")):
            row, parent = parent, parent.getparent()
        title = max(found, key=lambda a: len(" ".join((a.text_content() or "").split())))
        url, _ = urldefrag(urljoin(page_url, title.get("href")))
        rows.append(TopicRow(url=url, key=key, replies=_count(row), dates=_dates(row),
                             last_link=_last_link(found, page_url)))
    return rows


def _count(row) -> str | None:
    """The topic's reply count: a number in a count-hinted cell, else none."""
    for element in row.iter():
        if not isinstance(element.tag, str):
            continue
        if COUNT_HINT.search(f"{element.get('class') or ''} {element.get('title') or ''}"):
            text = " ".join((element.text_content() or "").split())
            number = re.search(r"\d[\d\s.,]*", text)
            if number and len(text) <= 40:
                return re.sub(r"\D", "", number.group())
    return None


def _dates(row) -> list[str]:
    found = []
    for element in row.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ("datetime", "data-time", "title"):
            value = element.get(attribute) or ""
            if value and DATE_TEXT.search(value) and re.search(r"\d", value):
                found.append(value)
        text = " ".join((element.text or "").split())
        if text and len(text) <= 60 and DATE_TEXT.search(text) and re.search(r"\d", text):
            found.append(text)
    return found[-3:]  # the last post's date comes last in a row


def _last_link(found: list, page_url: str) -> str | None:
    with_post = [a.get("href") for a in found
                 if re.search(r"#|[?&;](?:p|pid|post)=|/post-|/posts/", a.get("href") or "")]
    return urljoin(page_url, with_post[-1]) if with_post else None


def next_page(root, page_url: str) -> str | None:
    """The URL of the page after this one, or ``None`` on the last page: a ``rel="next"``
    link, else the number after the page marked current, else a link that says "next"
    (but not "next topic")."""
    for link in root.iter("link", "a"):
        if "next" in (link.get("rel") or "").lower().split() and link.get("href"):
            return urljoin(page_url, link.get("href"))
    after = _after_current(root, page_url)
    if after:
        return after
    for link in root.iter("a"):
        href = link.get("href") or ""
        if not href or href.startswith(("javascript:", "#")) or OTHER_TOPIC.search(href):
            continue
        text = " ".join((link.text_content() or "").split())
        title = link.get("title") or ""
        if OTHER_TOPIC.search(f"{text} {title}"):
            continue
        if NEXT_CLASS.search(link.get("class") or "") or (
                text and NEXT_TEXT.match(text) and not text.isdigit()) or (
                re.match(r"(?:next|следующ|наступн)", title, re.IGNORECASE)):
            return urljoin(page_url, href)
    return None


OTHER_TOPIC = re.compile(r"prev_next|next_topic|nexttopic|goto=next|view=next|"
                         r"(?:next|previous|следующая|предыдущая|наступна|попередня)\s+"
                         r"(?:topic|thread|тема|тему|теми)", re.IGNORECASE)


def _after_current(root, page_url: str) -> str | None:
    """The link numbered one past the page marked current in a pagination block."""
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag == "a":
            continue
        text = " ".join((element.text_content() or "").split())
        if not text.isdigit() or not (CURRENT_CLASS.search(element.get("class") or "")
                                      or element.tag in ("strong", "b", "em")):
            continue
        container = element.getparent()
        for _ in range(3):
            if container is None:
                break
            for link in container.iter("a"):
                if " ".join((link.text_content() or "").split()) == str(int(text) + 1):
                    return urljoin(page_url, link.get("href"))
            container = container.getparent()
    return None
