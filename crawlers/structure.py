"""Reading a forum topic page without engine selectors, from the page's own structure.

Every forum engine, in every style, prints a topic as repeated post blocks, each carrying
the post's id (``id="p248820"``, ``id="post_5001"``, ``id="msg123"``, ``<a name="p12">``,
``data-pid``), a link to the author's profile, a date and a body. :func:`find_posts` finds
the elements carrying post ids, takes for each the largest block around it that holds no
other post, and reads the block by hints that hold across engines (class names such as
``author`` / ``username`` / ``content`` / ``message``, profile-link URL shapes, date-looking
text). Pure: HTML in, :class:`FoundPost` out; the forum spider turns them into mentions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

from lxml import etree, html

from crawlers.post_dates import DATE_TEXT, date_candidates
from crawlers.post_text import (
    SIGNATURE_HINT,
    classes,
    clean_body,
    edit_notice,
    in_quote,
    is_edit_notice,
    is_quote,
    outermost_quotes,
    read_quote,
)

POST_ID = re.compile(
    r"^(?P<prefix>p|post|post_|post-|postid|postid_|msg|msg_|message|message_|message-|entry"
    r"|comment|comment_|comment-|elComment_|post_id_|reply|reply_|reply-|td_post_|pid|pid_"
    r"|node|node_|node-|js-post-|forumpost|forumpost_|Discussion_|discussion-|topic_|)"
    r"(?P<number>\d{3,})$",
    re.IGNORECASE)
ID_ATTRIBUTES = ("id", "name", "data-pid", "data-post-id", "data-postid", "data-node-id",
                 "data-content", "data-commentid")
PROFILE_LINK = re.compile(
    r"memberlist\.php\?mode=viewprofile|member\.php\?(?:.*&)?u=|/members?/|profile\.php|"
    r"/profile/|action=profile|showuser=|/users?/|[?&;]u=\d|userid=|/index/8-|"
    r"/profile\b|viewprofile|/author/|/people/", re.IGNORECASE)
AUTHOR_HINT = re.compile(
    r"(?:^|[\s_-])(?:author|username|user-name|user_name|poster|postauthor|post_author|"
    r"bigusername|message-name|username-coloured|cAuthorPane_author|ipsComment_author|"
    r"Username|userName|postprofile|b-userinfo__name|uname|nick|name|postleft|poster|"
    r"userinfo|user-info|postuser|postUser|post_user)(?:$|[\s_-])",
    re.IGNORECASE)
BODY_HINT = re.compile(
    r"(?:^|[\s_-])(?:content|message|post_message|postcontent|bbWrapper|messageText|"
    r"post_body|post-body|postbody|entry-content|Message|ipsType_richText|cPost_content|"
    r"b-post__body|post_text|postText|postmsg|post-message|message-body|messageContent|"
    r"userContent|inner|cMessage|postMessage|uMsg|text|body)(?:$|[\s_-])",
    re.IGNORECASE)
STRONG_BODY_HINT = re.compile(
    r"(?:^|\s)(?:content|postcontent|bbWrapper|messageText|post_body|postbody|post-body|"
    r"post_message|post_text|postText|postmsg|post-message|ipsType_richText|b-post__body|"
    r"entry-content|userContent|cMessage|postMessage|uMsg|Message|inner|message-body|"
    r"bbc_standard|post-content|message-content|messageContent|postcolor|posttdMessage|"
    r"ucoz-forum-post|postMessage|post_body_text)(?:$|\s)")
BODY_ID = re.compile(r"^(?:post_message_|message_|msg_|pid|post-body-|postmsg)\d+",
                     re.IGNORECASE)
PAGING_PARAMS = re.compile(r"([?&;])(?:start|page|st|p|pg)=\d+&?", re.IGNORECASE)
MIN_BODY_CHARS = 1


@dataclass
class FoundPost:
    """What the structure of a page tells of one post."""

    anchor: str  # the post's id as the page carries it ("p248820")
    number: str  # its digits ("248820")
    permalink: str
    author: str | None
    author_url: str | None
    date_candidates: list[str]
    body: html.HtmlElement | None
    quotes: list[dict] = field(default_factory=list)
    edited: str | None = None

    @property
    def problem(self) -> str | None:
        """Why this block cannot be a post (``no_author``, ``no_date``, ``no_body``), if so."""
        if self.body is None:
            return "no_body"
        if not self.date_candidates:
            return "no_date"
        return None


def find_posts(root: html.HtmlElement, page_url: str) -> list[FoundPost]:
    """The posts of a topic page, in page order; ``[]`` when no repeated post block is found.

    Each group of id carriers sharing a prefix (``p…``, ``post_…``) is read; the group whose
    blocks read best (most with an author, a date and a body) wins. Whole posts of other
    groups outside its blocks join it: a topic's opening post often carries another id
    (``Discussion_12`` before ``Comment_13``, ``Comment_14``…).
    """
    groups = []
    for carriers in _carrier_groups(root).values():
        read = [(_read_block(block, carrier, page_url), block)
                for carrier, block in _blocks(carriers)]
        if read:
            groups.append(read)
    if not groups:
        return []
    best = max(groups, key=lambda read: sum((p.problem is None) + (p.author is not None)
                                            for p, _ in read))
    taken = {id(block) for _, block in best}
    covered = {id(e) for _, block in best for e in block.iter()}
    joined = list(best)
    for read in groups:
        for post, block in read:
            whole = post.problem is None and post.author is not None
            if whole and id(block) not in covered and not any(
                    id(ancestor) in taken for ancestor in block.iterancestors()) and not (
                    {id(e) for e in block.iter()} & taken):
                joined.append((post, block))
                taken.add(id(block))
                covered |= {id(e) for e in block.iter()}
    order = {id(element): n for n, element in enumerate(root.iter())}
    return [post for post, block in sorted(joined, key=lambda pair: order[id(pair[1])])]


def count_post_blocks(root: html.HtmlElement) -> int:
    """How many post blocks the page's ids mark, at most; cheap, since no block is read.
    Blocks of different id kinds that are the same element, or lie inside one another,
    count once."""
    blocks = {id(block): block for carriers in _carrier_groups(root).values()
              for _, block in _blocks(carriers)}
    return sum(not any(id(ancestor) in blocks for ancestor in block.iterancestors())
               for block in blocks.values())


# -- finding the post blocks --------------------------------------------------------------------

def _carrier_groups(root) -> dict[str, list[tuple[html.HtmlElement, str, str]]]:
    """Elements carrying a post id, grouped by the attribute and id prefix they use."""
    groups: dict[str, list] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute in ID_ATTRIBUTES:
            value = (element.get(attribute) or "").strip()
            if not value:
                continue
            if attribute.startswith("data-") and value.isdigit():
                value = f"{attribute}{value}"
                match = re.match(r"(?P<prefix>[a-z-]+?)(?P<number>\d+)$", value)
            else:
                match = POST_ID.match(value)
            if not match:
                continue
            key = f"{attribute}:{match.group('prefix').lower()}"
            if (key, match.group("number")) in seen:
                continue
            seen.add((key, match.group("number")))
            groups[key].append((element, value, match.group("number")))
    return groups


def _blocks(carriers) -> list[tuple[tuple[str, str], html.HtmlElement]]:
    """For each carrier, the largest element around it holding no other carrier of its group
    (a post's whole block), or the carrier itself when it already is a block."""
    elements = [element for element, _, _ in carriers]
    if len(elements) == 1:
        element, anchor, number = carriers[0]
        block = _single_block(element)
        return [((anchor, number), block)] if block is not None else []
    marks = {id(element) for element in elements}
    blocks = []
    for element, anchor, number in carriers:
        block = element
        parent = block.getparent()
        while parent is not None and not _holds_other(parent, marks, element):
            block, parent = parent, parent.getparent()
        blocks.append(((anchor, number), block))
    ids = {id(block) for _, block in blocks}
    if len(ids) != len(blocks):
        return []  # carriers that share a block are not posts (e.g. ids inside one post)
    return blocks


def _holds_other(element, marks: set[int], own) -> bool:
    return any(id(inner) in marks and inner is not own for inner in element.iter())


def _single_block(element) -> html.HtmlElement | None:
    """A page with one post: the smallest block around its id that also holds a profile
    link and a date-looking text."""
    block = element
    while block is not None and block.tag not in ("body", "html"):
        if _profile_links(block) and DATE_TEXT.search(block.text_content() or ""):
            return block
        block = block.getparent()
    return None


# -- reading one block --------------------------------------------------------------------------

def _read_block(block, carrier: tuple[str, str], page_url: str) -> FoundPost:
    anchor, number = carrier
    everything = [element for element in block.iter() if isinstance(element.tag, str)]
    author, author_url, author_element = _author(block, everything, page_url)
    found = _body(block, _naming(everything, block, author) or [author_element])
    body, quotes, edited = None, [], None
    if found is not None:
        body = _own_copy(found)
        quotes = [read_quote(quote) for quote in outermost_quotes(body)]
        edited = clean_body(body)
    inside = set() if found is None else {id(element) for element in found.iter()}
    outside = [element for element in everything
               if id(element) not in inside and not in_quote(element, block)]
    # a date the body's wrapper holds (vBulletin 5) when none is outside it
    dates = date_candidates(block, outside) or date_candidates(
        block, [element for element in everything if not in_quote(element, block)])
    return FoundPost(
        anchor=anchor, number=number, permalink=_permalink(block, anchor, number, page_url),
        author=author, author_url=author_url, date_candidates=dates,
        body=body, quotes=quotes, edited=edited or edit_notice(outside))


def _naming(elements: list, block, author: str | None) -> list:
    """The elements outside quotes and text that show the author's name: links and
    author-hinted elements."""
    if not author:
        return []
    return [e for e in elements if (e.tag == "a" or AUTHOR_HINT.search(classes(e)))
            and _name_of(e) == author and not _inside_body_or_quote(e, block)]


def _body(block, naming: list) -> html.HtmlElement | None:
    """The element holding the post's words: the deepest body-hinted element with most text,
    not holding the author's name (that is the whole post, or the poster's panel)."""
    holding_author = {id(ancestor) for element in naming if element is not None
                      for ancestor in [element, *element.iterancestors()]}
    candidates = []
    for element in block.iter():
        if not isinstance(element.tag, str) or element is block:
            continue
        class_names = element.get("class") or ""
        if not (BODY_HINT.search(class_names) or STRONG_BODY_HINT.search(class_names)
                or BODY_ID.match(element.get("id") or "")
                or element.get("itemprop") in ("text", "articleBody", "commentText")):
            continue
        marked_body = STRONG_BODY_HINT.search(class_names) or BODY_ID.match(element.get("id") or "")
        if ((is_quote(element) and not marked_body) or SIGNATURE_HINT.search(classes(element))
                or in_quote(element, block) or is_edit_notice(element)):
            continue
        if id(element) in holding_author:
            continue
        text = _content_length(element)
        if text >= MIN_BODY_CHARS:
            candidates.append((text, _depth(element), element))
    strong = [c for c in candidates if STRONG_BODY_HINT.search(c[2].get("class") or "")
              or BODY_ID.match(c[2].get("id") or "")
              or c[2].get("itemprop") in ("text", "articleBody", "commentText")]
    for tier in (strong, candidates):
        if tier:
            longest = max(text for text, _, _ in tier)
            # among those holding (nearly) all the words, the deepest: the body itself
            close = [c for c in tier if c[0] >= 0.6 * longest]
            chosen = max(close, key=lambda c: (c[1], c[0]))[2]
            parent = chosen.getparent()
            parts = [child for child in parent if isinstance(child.tag, str)
                     and chosen.get("class") and child.get("class") == chosen.get("class")]
            if len(parts) > 1 and id(parent) not in holding_author and parent is not block:
                return parent
            return chosen
    return None


def _profile_links(element) -> list:
    return [link for link in element.iter("a") if PROFILE_LINK.search(link.get("href") or "")]


def _depth(element) -> int:
    return sum(1 for _ in element.iterancestors())


def _content_length(element) -> int:
    """Characters of the words a body could hold: signatures, links, dates and post
    numbers left out (a wrapper holding the post's header adds little then)."""
    total = 0
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        chain = [node]
        for ancestor in node.iterancestors():
            if ancestor is element:
                break
            chain.append(ancestor)
        if not any(_not_words(a) for a in chain):
            total += len((node.text or "").strip())
        if node is not element and not any(_not_words(a) for a in chain[1:]):
            total += len((node.tail or "").strip())
    return total


def _not_words(element) -> bool:
    return (element.tag in ("a", "time", "abbr") or bool(SIGNATURE_HINT.search(classes(element)))
            or bool(NOT_WORDS_HINT.search(element.get("class") or "")))


NOT_WORDS_HINT = re.compile(r"date|time|posted_info|postdetails|b-post__timestamp|"
                            r"post-number|postcounter|(?:^|\s)edit(?:$|\s)|lastedit|editnote",
                            re.IGNORECASE)


def _own_copy(element) -> html.HtmlElement:
    """A detached copy, so that cutting signatures and labels leaves the page intact."""
    return html.fromstring(etree.tostring(element, encoding="unicode"))


def _inside_body_or_quote(element, block) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is block:
            return False
        class_names = ancestor.get("class") or ""
        if (is_quote(ancestor) or BODY_ID.match(ancestor.get("id") or "")
                or re.search(r"(?:^|\s)(?:content|bbWrapper|postcontent|post_body|messageText|"
                             r"ipsType_richText|b-post__body|postmsg)(?:$|\s)", class_names)):
            return True
    return False


def _author(block, elements: list, page_url: str) -> tuple[str | None, str | None, object]:
    """The author's handle, profile URL and the element naming them: a ``data-author``
    attribute, an element hinted as the author, or the first profile link (never inside a
    quote or a post's text)."""
    outside = [e for e in elements if not _inside_body_or_quote(e, block)]
    if block.get("data-author"):
        link = next((a for a in outside if a.tag == "a"
                     and PROFILE_LINK.search(a.get("href") or "")), None)
        return block.get("data-author").strip(), _href(link, page_url), link
    for element in outside:
        if AUTHOR_HINT.search(classes(element)):
            link = element if element.tag == "a" else next(
                (a for a in element.iter("a") if PROFILE_LINK.search(a.get("href") or "")),
                None)
            name = _name_of(link if link is not None else element)
            if name:
                return name, _href(link, page_url), (link if link is not None else element)
    for link in (a for a in outside if a.tag == "a"):
        if PROFILE_LINK.search(link.get("href") or ""):
            name = _name_of(link)
            if name:
                return name, _href(link, page_url), link
    return None, None, None


def _name_of(element) -> str | None:
    """A link's text; else the text of the element's first bold or name-hinted child (a
    guest's name, "by <strong>X</strong>"), or its first piece of text without a "by"."""
    if element.tag == "a":
        text = " ".join((element.text_content() or "").split())
        return text if text and len(text) <= 60 else None
    for child in element.iter("strong", "b", "span", "a"):
        if child is not element and (child.tag in ("strong", "b")
                                     or AUTHOR_HINT.search(classes(child))):
            text = " ".join((child.text_content() or "").split())
            if text and len(text) <= 60:
                return text
    for piece in element.itertext():
        text = BY_PREFIX.sub("", " ".join(piece.split())).strip(" »:")
        if text:
            return text if len(text) <= 60 else None
    return None


BY_PREFIX = re.compile(r"^(?:by|от|від|автор|author|posted by)\b\s*:?\s*", re.IGNORECASE)


def _href(link, page_url: str) -> str | None:
    if link is None or not link.get("href"):
        return None
    return urljoin(page_url, link.get("href"))


def _permalink(block, anchor: str, number: str, page_url: str) -> str:
    """A link in the block that points at this post, else the page's URL with the post's
    anchor (paging parameters left out, so the post keeps its URL if it moves page)."""
    for link in block.iter("a"):
        href = link.get("href") or ""
        if href.endswith(f"#{anchor}") or re.search(
                rf"(?:[?&;](?:p|pid|post|postid|msg)=|/posts?/|[#/-]post-?|#msg|#p|#entry|"
                rf"findpost&p=|/comment/|#Comment_){number}(?:\D|$)", href):
            return urljoin(page_url, href)
    base, _ = urldefrag(page_url)
    base = PAGING_PARAMS.sub(lambda m: m.group(1), base).rstrip("?&;")
    return f"{base}#{anchor}"
