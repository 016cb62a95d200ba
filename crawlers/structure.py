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
from datetime import UTC, datetime
from urllib.parse import urldefrag, urljoin

from lxml import etree, html

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
SIGNATURE_HINT = re.compile(r"signature|(?:^|[\s_-])sig(?:$|[\s_-])|postSignature",
                            re.IGNORECASE)
QUOTE_HINT = re.compile(r"(?:^|\s)[\w-]*quote[\w-]*(?:$|\s)", re.IGNORECASE)
QUOTE_LEAD = re.compile(r"^(?:(?:quote|цитата)\s*:?\s*)?(?:originally posted by|"
                        r"сообщение от|повідомлення від)\b", re.IGNORECASE)
QUOTE_HEADER_HINT = re.compile(r"quoteheader|attribution|bbcode_postedby|QuoteAuthor|"
                               r"quote_?title|quotetitle|citation|bbCodeBlock-title|"
                               r"quote-header|qName|uQuoteTitle|QuoteName|quote_?name|"
                               r"quote_?author|quotebutton|quote_button|multiquote|SelectQuote",
                               re.IGNORECASE)
QUOTE_AUTHOR_ATTRIBUTES = ("data-author", "data-quote", "data-username",
                           "data-ipsquote-username", "data-user", "data-name")
QUOTE_AUTHOR_TEXT = (
    re.compile(r"^\s*(?:Quote\s+from|Цитата\s+от|Цитата\s+від)\s*:?\s*(.+?)\s+(?:on|от|від)\b",
               re.IGNORECASE),
    re.compile(r"(?:Originally\s+Posted\s+by|Сообщение\s+от|Повідомлення\s+від)\s*:?\s*"
               r"([^\n]+?)\s*$", re.IGNORECASE),
    re.compile(r"^\s*(?:Цитата|Quote)\s*\(([^)]+)\)", re.IGNORECASE),
    re.compile(r"^\s*(.+?)\s*,\s*on\s+.+?\s+said\s*:?\s*$", re.IGNORECASE),
    re.compile(r"^\s*(?:Quote\s*:?\s*)?(.+?)\s+(?:wrote|said|writes|has written|"
               r"писал\(а\)|писала|писал|написал\(а\)|написала|написал|писав|написав|"
               r"сказал|сказала|сказав)\b", re.IGNORECASE),
)
UI_LABEL = re.compile(
    r"^\s*(?:Code|Код|Quote|Цитата|Spoiler|Спойлер|Спойлер\s*\(.*\)|Hidden\s+text|"
    r"Скрытый\s+текст|Прихований\s+текст|PHP|HTML|SQL|JavaScript)\s*"
    r"(?::\s*(?:\[?\s*(?:Select(?:\s+all)?|Выделить(?:\s+вс[её])?|Виділити(?:\s+все)?|"
    r"Expand|Развернуть|Copy|Копировать|Скопировать)\s*\]?)?)?\s*:?\s*$",
    re.IGNORECASE)
UI_LABEL_HINT = re.compile(r"codeheader|codetitle|code-header|codebox\s*>\s*p|bbCodeBlock-title|"
                           r"bbcode_description|spoiler_?title|sp-head|uSpoilerButton|"
                           r"ipsSpoiler_header|spoiler-head|code_header|bbc_code_header",
                           re.IGNORECASE)
DATE_TEXT = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}|"
    r"\b(?:today|yesterday|ago|сегодня|вчера|назад|сьогодні|вчора|тому|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
    r"янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек|"
    r"січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листоп|груд|"
    r"mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс|нд)",
    re.IGNORECASE)
DATE_ATTRIBUTES = ("datetime", "data-time", "data-timestamp", "data-datetime", "title",
                   "data-date", "data-value")
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


def parse_html(text: str) -> html.HtmlElement:
    """The page as an lxml tree (an empty document for an empty page)."""
    return html.fromstring(text or "<html></html>")


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
        edited = clean_body(body)
        quotes = [_read_quote(quote) for quote in _outermost_quotes(body)]
    inside = set() if found is None else {id(element) for element in found.iter()}
    outside = [element for element in everything
               if id(element) not in inside and not _in_quote(element, block)]
    # a date the body's wrapper holds (vBulletin 5) when none is outside it
    dates = _dates(block, outside) or _dates(block, [element for element in everything
                                                     if not _in_quote(element, block)])
    return FoundPost(
        anchor=anchor, number=number, permalink=_permalink(block, anchor, number, page_url),
        author=author, author_url=author_url, date_candidates=dates,
        body=body, quotes=quotes, edited=edited or _edit_notice(outside))


def clean_body(body) -> str | None:
    """Cut what is not the author's words out of a post body, in place: "edited by" notices
    (whose text is returned), signatures and the labels of code, spoiler and quote blocks."""
    edited = _cut_edit_notices(body)
    for dropped in _signatures(body) + _ui_labels(body):
        _drop(dropped)
    return edited


def _cut_edit_notices(body) -> str | None:
    """Take "Last edited by …" notices out of the post's words; the first one's text."""
    notices = [element for element in body.iter()
               if isinstance(element.tag, str) and element is not body
               and len(element.text_content() or "") <= 200
               and EDIT_NOTICE_TEXT.match(" ".join((element.text_content() or "").split()))]
    notices = _outermost(notices)
    text = " ".join(notices[0].text_content().split()) if notices else None
    for notice in notices:
        _drop(notice)
    return text


def _classes(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _naming(elements: list, block, author: str | None) -> list:
    """The elements outside quotes and text that show the author's name: links and
    author-hinted elements."""
    if not author:
        return []
    return [e for e in elements if (e.tag == "a" or AUTHOR_HINT.search(_classes(e)))
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
        classes = element.get("class") or ""
        if not (BODY_HINT.search(classes) or STRONG_BODY_HINT.search(classes)
                or BODY_ID.match(element.get("id") or "")
                or element.get("itemprop") in ("text", "articleBody", "commentText")):
            continue
        marked_body = STRONG_BODY_HINT.search(classes) or BODY_ID.match(element.get("id") or "")
        if (_is_quote(element) and not marked_body) or SIGNATURE_HINT.search(_classes(element)):
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
            return max(close, key=lambda c: (c[1], c[0]))[2]
    return None


def _profile_links(element) -> list:
    return [link for link in element.iter("a") if PROFILE_LINK.search(link.get("href") or "")]


def _depth(element) -> int:
    return sum(1 for _ in element.iterancestors())


def _content_length(element) -> int:
    """Characters of visible text, signatures left out."""
    total = 0
    for node in element.iter():
        if not isinstance(node.tag, str):
            continue
        hidden = any(SIGNATURE_HINT.search(_classes(a)) for a in node.iterancestors()
                     if a is not element) or SIGNATURE_HINT.search(_classes(node))
        if not hidden:
            total += len((node.text or "").strip())
        if node is not element and not any(
                SIGNATURE_HINT.search(_classes(a)) for a in node.iterancestors()
                if a is not element):
            total += len((node.tail or "").strip())
    return total


def _own_copy(element) -> html.HtmlElement:
    """A detached copy, so that cutting signatures and labels leaves the page intact."""
    return html.fromstring(etree.tostring(element, encoding="unicode"))


def _drop(element) -> None:
    """Remove an element, keeping the text that follows it."""
    element.drop_tree()


def _signatures(body) -> list:
    """Signature blocks; a signature printed after a line of underscores (vBulletin 3,
    phpBB 2) is cut off the body here, with everything after the line."""
    found = [element for element in body.iter()
             if isinstance(element.tag, str) and element is not body
             and SIGNATURE_HINT.search(_classes(element))]
    for element in list(body.iter()):
        if not isinstance(element.tag, str):
            continue
        if element is not body and SIGNATURE_LINE.match(element.text or ""):
            _cut_after(element, body, keep=False)
            break
        if element is not body and SIGNATURE_LINE.match(element.tail or ""):
            element.tail = None
            _cut_after(element, body, keep=True)
            break
    return [element for element in found if element.getparent() is not None]


SIGNATURE_LINE = re.compile(r"^\s*_{10,}\s*")


def _cut_after(element, body, *, keep: bool) -> None:
    """Remove everything after ``element`` up to the end of ``body`` (and ``element`` too
    unless ``keep``)."""
    node = element
    while node is not None and node is not body:
        for sibling in list(node.itersiblings()):
            node.getparent().remove(sibling)
        parent = node.getparent()
        if node is element and not keep:
            parent.remove(node)
        node = parent


def _ui_labels(body) -> list:
    labels = []
    for element in body.iter():
        if not isinstance(element.tag, str) or element is body:
            continue
        text = " ".join((element.text_content() or "").split())
        if len(text) > 60:
            continue
        if UI_LABEL_HINT.search(_classes(element)) or (text and UI_LABEL.match(text)):
            labels.append(element)
    return _outermost(labels)


def _outermost(elements: list) -> list:
    chosen = {id(element) for element in elements}
    return [element for element in elements
            if not any(id(ancestor) in chosen for ancestor in element.iterancestors())]


def _is_quote(element) -> bool:
    if element.tag == "blockquote":
        return True
    classes = element.get("class") or ""
    if QUOTE_HINT.search(classes) and not QUOTE_HEADER_HINT.search(classes):
        return True
    if element.tag in ("table", "div"):  # vBulletin 3: "Quote: Originally Posted by X"
        lead = " ".join((element.text_content() or "")[:120].split())
        return bool(QUOTE_LEAD.match(lead))
    return False


def _in_quote(element, stop) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if _is_quote(ancestor):
            return True
    return False


def _inside_body_or_quote(element, block) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is block:
            return False
        classes = ancestor.get("class") or ""
        if (_is_quote(ancestor) or BODY_ID.match(ancestor.get("id") or "")
                or re.search(r"(?:^|\s)(?:content|bbWrapper|postcontent|post_body|messageText|"
                             r"ipsType_richText|b-post__body|postmsg)(?:$|\s)", classes)):
            return True
    return False


def _outermost_quotes(body) -> list:
    quotes = [element for element in body.iter()
              if isinstance(element.tag, str) and element is not body and _is_quote(element)]
    return _outermost(quotes)


def _read_quote(quote) -> dict:
    """A quote block → ``{"author", "html"}``, taken out of the body; its header goes too."""
    author = None
    for element in [quote, *quote.iter()]:
        for attribute in QUOTE_AUTHOR_ATTRIBUTES:
            value = (element.get(attribute) or "").strip()
            if value:
                author = value.split(",")[0].split(";")[0].strip()
                break
        if author:
            break
    headers = [element for element in quote.iter()
               if isinstance(element.tag, str) and element is not quote
               and (element.tag == "cite" or QUOTE_HEADER_HINT.search(_classes(element)))]
    header_before = quote.getprevious()
    if header_before is not None and QUOTE_HEADER_HINT.search(_classes(header_before)):
        headers.insert(0, header_before)
    for header in headers:
        if author is None:
            author = _quote_author_from_text(header.text_content() or "")
    if author is None:
        author = _quote_author_from_text((quote.text or "").strip())
    for header in _outermost(headers):
        if header.getparent() is not None:
            header.drop_tree()
    for label in _ui_labels(quote):
        label.drop_tree()
    text = etree.tostring(quote, encoding="unicode", with_tail=False)
    quote.drop_tree()
    return {"author": author, "html": text}


def _quote_author_from_text(text: str) -> str | None:
    text = " ".join(text.split())
    for pattern in QUOTE_AUTHOR_TEXT:
        match = pattern.search(text)
        if match and match.group(1).strip(" :»«\"'"):
            return match.group(1).strip(" :»«\"'")
    return None


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
        if AUTHOR_HINT.search(_classes(element)):
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
                                     or AUTHOR_HINT.search(_classes(child))):
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


def _dates(block, outside: list) -> list[str]:
    """Date candidates outside the body: machine-readable attributes first, then the text of
    date-hinted elements, then date-looking text pieces (edit notices left out)."""
    attributes, whole, texts, containers = [], [], [], []
    notices = {id(e) for element in outside if _is_edit_notice(element) for e in element.iter()}
    for element in outside:
        if id(element) in notices or element.tag in ("script", "style"):
            continue
        for attribute in DATE_ATTRIBUTES:
            value = (element.get(attribute) or "").strip()
            if not value or (attribute == "title" and element.tag not in ("abbr", "time",
                                                                          "span")):
                continue
            if value.isdigit() and attribute in ("data-time", "data-timestamp"):
                attributes.append(datetime.fromtimestamp(int(value), UTC).isoformat())
            elif DATE_TEXT.search(value) and re.search(r"\d", value):
                attributes.append(value)
        label = element.getprevious()
        if (label is not None and isinstance(label.tag, str)
                and NOT_POST_DATE.search(label.text_content() or "")):
            continue  # <dt>Registered:</dt><dd>2019-03-11</dd>
        if DATE_HINT.search(_classes(element)) or element.tag == "time":
            text = " ".join((element.text_content() or "").split())
            if text and len(text) <= 80 and DATE_TEXT.search(text):
                whole.append(text)
        whole_text = " ".join((element.text_content() or "").split())
        start = DATE_START.search(whole_text) if len(whole_text) <= 100 else None
        if start and not NOT_POST_DATE.search(whole_text):
            # "« Reply #3 on: <b>Yesterday</b> at 09:05:09 PM »"
            containers.append(whole_text[start.start():].strip(" »«|-–—,"))
        own_label = NOT_POST_DATE.search(element.text or "")
        for text in (element.text, element.tail if element is not block and not own_label
                     else None):
            text = " ".join((text or "").split()).strip(" »«|-–—,")
            if (text and len(text) <= 80 and DATE_TEXT.search(text)
                    and RELATIVE_OR_DIGIT.search(text) and not BARE_DAY.match(text)):
                texts.append(LABEL_PREFIX.sub("", text))
    found = [c for c in dict.fromkeys(attributes + whole + texts + containers)
             if not NOT_POST_DATE.search(c)]
    return found


LABEL_PREFIX = re.compile(r"^(?:posted|post(?:ed)?\s+on|date|дата|добавлено|отправлено|"
                          r"опубликовано|додано|надіслано|sent)\s*:?\s*", re.IGNORECASE)
NOT_POST_DATE = re.compile(r"regist|joined|join date|member since|дата регистрации|"
                           r"дата реєстрації|зарегистр|регистрац|зареєстр|"
                           r"реєстрац|с нами|на форуме с|last (?:visit|active)|был[аи]? "
                           r"на сайте|birthday|день рождения", re.IGNORECASE)


BARE_DAY = re.compile(r"^(?:today|yesterday|сегодня|вчера|сьогодні|вчора)$", re.IGNORECASE)
DATE_START = re.compile(
    r"\b(?:today|yesterday|сегодня|вчера|сьогодні|вчора|"
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|янв|фев|мар|апр|ма[йя]|"
    r"июн|июл|авг|сен|окт|ноя|дек|січ|лют|бер|кві|тра|чер|лип|сер|вер|жов|лис|гру)|"
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2})", re.IGNORECASE)
DATE_HINT = re.compile(r"date|time|posted|published|timestamp|postdetails", re.IGNORECASE)
RELATIVE_OR_DIGIT = re.compile(r"\d|ago|вчера|сегодня|вчора|сьогодні|yesterday|today",
                               re.IGNORECASE)
EDIT_NOTICE_TEXT = re.compile(r"^(?:last edited|edited by|edited|изменено|отредактировано|"
                              r"сообщение отредактировал|змінено|відредаговано)\b",
                              re.IGNORECASE)
EDIT_TEXT = re.compile(r"last edited|edited by|изменено|отредактировано|редактировал|"
                       r"змінено|відредаговано|редагував", re.IGNORECASE)


EDIT_HINT = re.compile(r"(?:^|\s)[\w-]*(?:notice|lastedit|edited|editnote|edit_by|editedby|"
                       r"modified)[\w-]*(?:$|\s)", re.IGNORECASE)


def _is_edit_notice(element) -> bool:
    """An "edited by" notice: an edit-hinted element saying so, or a short one that starts
    with those words ("Last edited by olena_k; 11-12-2026 at 05:02 PM")."""
    text = element.text_content() or ""
    if len(text) > 300:
        return False
    return bool((EDIT_HINT.search(_classes(element)) and EDIT_TEXT.search(text))
                or EDIT_NOTICE_TEXT.match(" ".join(text.split())))


def _edit_notice(outside: list) -> str | None:
    for element in outside:
        if _is_edit_notice(element):
            return " ".join((element.text_content() or "").split())
    return None


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
