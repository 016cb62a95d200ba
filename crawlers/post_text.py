"""The author's own words in a post body: what is cut out of it (edit notices, signatures,
the labels of code, spoiler and quote blocks) and how quotes of other people are found and
read, across forum engines. Pure functions over lxml elements."""

from __future__ import annotations

import re

from lxml import etree

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
def clean_body(body) -> str | None:
    """Cut what is not the author's words out of a post body, in place: "edited by" notices
    (whose text is returned), signatures and the labels of code, spoiler and quote blocks."""
    edited = _cut_edit_notices(body)
    for dropped in _signatures(body) + _ui_labels(body):
        drop(dropped)
    return edited


def _cut_edit_notices(body) -> str | None:
    """Take "Last edited by …" notices out of the post's words; the first one's text."""
    notices = [element for element in body.iter()
               if isinstance(element.tag, str) and element is not body
               and len(element.text_content() or "") <= 200
               and EDIT_NOTICE_TEXT.match(" ".join((element.text_content() or "").split()))]
    notices = outermost(notices)
    text = " ".join(notices[0].text_content().split()) if notices else None
    for notice in notices:
        drop(notice)
    return text


def classes(element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def drop(element) -> None:
    """Remove an element, keeping the text that follows it."""
    element.drop_tree()


def _signatures(body) -> list:
    """Signature blocks; a signature printed after a line of underscores (vBulletin 3,
    phpBB 2) is cut off the body here, with everything after the line."""
    found = [element for element in body.iter()
             if isinstance(element.tag, str) and element is not body
             and SIGNATURE_HINT.search(classes(element))]
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
        if UI_LABEL_HINT.search(classes(element)) or (text and UI_LABEL.match(text)):
            labels.append(element)
    return outermost(labels)


def outermost(elements: list) -> list:
    chosen = {id(element) for element in elements}
    return [element for element in elements
            if not any(id(ancestor) in chosen for ancestor in element.iterancestors())]


def is_quote(element) -> bool:
    """A quote of someone else: a ``blockquote`` (but not one that holds a post's own words,
    as vBulletin 4 and XenForo 1 use), a quote-classed block, or a "Quote: Originally Posted
    by …" block."""
    if BODY_BLOCKQUOTE.search(element.get("class") or ""):
        return False
    if element.tag == "blockquote":
        return True
    class_names = element.get("class") or ""
    if QUOTE_HINT.search(class_names) and not QUOTE_HEADER_HINT.search(class_names):
        return True
    if element.tag in ("table", "div") and not element.get("class") and not element.get("id"):
        # vBulletin 3 wraps a quote in a bare block: "Quote: Originally Posted by X"
        lead = " ".join((element.text_content() or "")[:120].split())
        if QUOTE_LEAD.match(lead):
            return True
        # "Quote:" above a table holding the quoted words, with no author
        children = [child for child in element if isinstance(child.tag, str)]
        return (len(children) == 2 and children[1].tag == "table"
                and bool(QUOTE_LABEL.match(" ".join(children[0].text_content().split()))))
    return False


BODY_BLOCKQUOTE = re.compile(r"(?:^|\s)(?:postcontent|messageText|message-body|bbWrapper)"
                             r"(?:$|\s)")
QUOTE_LABEL = re.compile(r"^(?:quote|цитата)\s*:?$", re.IGNORECASE)


def in_quote(element, stop) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if is_quote(ancestor):
            return True
    return False


def outermost_quotes(body) -> list:
    quotes = [element for element in body.iter()
              if isinstance(element.tag, str) and element is not body and is_quote(element)]
    return outermost(quotes)


def quoted_post(elements) -> str | None:
    """The id of the post a quote is taken from, where the page shows it: an attribute
    (``data-source="post: 123"``, ``data-cid``, ``data-ipsquote-contentcommentid``…) or a
    "view post" link in the quote's header (``#post123``, ``p=123``, ``/post-123``)."""
    for element in elements:
        for attribute in QUOTED_POST_ATTRIBUTES:
            match = re.search(r"\d{2,}", element.get(attribute) or "")
            if match:
                return match.group()
        if element.tag == "a":
            match = QUOTED_POST_LINK.search(element.get("href") or "")
            if match:
                return match.group(1)
    return None


QUOTED_POST_ATTRIBUTES = ("data-source", "data-cid", "data-ipsquote-contentcommentid",
                          "data-postid", "data-post-id", "data-pid")
QUOTED_POST_LINK = re.compile(r"(?:#post|[?&;]p=|/post-|#p|#msg|findpost&p=|/posts/)(\d{2,})")


def read_quote(quote) -> dict:
    """A quote block → ``{"author", "html", "post"}`` (``post``: the quoted post's id, if
    shown), taken out of the body; its header goes too."""
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
               and (element.tag == "cite" or QUOTE_HEADER_HINT.search(classes(element)))]
    header_before = quote.getprevious()
    if header_before is None and quote.getparent() is not None and quote.getparent().tag == "tr":
        header_before = quote.getparent().getprevious()  # phpBB 2: the "X wrote:" row above
    if header_before is not None and isinstance(header_before.tag, str) and (
            QUOTE_HEADER_HINT.search(classes(header_before)) or (
                len(header_before.text_content() or "") <= 80
                and _quote_author_from_text(header_before.text_content() or ""))):
        headers.insert(0, header_before)
    post = quoted_post([*(e for h in headers for e in h.iter()), *quote.iter()])
    for header in headers:
        if author is None:
            author = _quote_author_from_text(header.text_content() or "")
    if author is None:
        author = _quote_author_from_text((quote.text or "").strip())
    for header in outermost(headers):
        if header.getparent() is not None:
            header.drop_tree()
    for label in _ui_labels(quote):
        label.drop_tree()
    text = etree.tostring(quote, encoding="unicode", with_tail=False)
    quote.drop_tree()
    return {"author": author, "html": text, "post": post}


def _quote_author_from_text(text: str) -> str | None:
    text = " ".join(text.split())
    for pattern in QUOTE_AUTHOR_TEXT:
        match = pattern.search(text)
        if match and match.group(1).strip(" :»«\"'"):
            return match.group(1).strip(" :»«\"'")
    return None


EDIT_NOTICE_TEXT = re.compile(r"^(?:last edited|edited by|edited|this post has been edited|"
                              r"изменено|отредактировано|"
                              r"последний раз редактировал\w*|востаннє редаг\w*|"
                              r"сообщение отредактировал|змінено|відредаговано)\b",
                              re.IGNORECASE)
EDIT_TEXT = re.compile(r"last edited|edited by|изменено|отредактировано|редактировал|"
                       r"востаннє редаг|"
                       r"змінено|відредаговано|редагував", re.IGNORECASE)


EDIT_HINT = re.compile(r"(?:^|\s)[\w-]*(?:notice|lastedit|edited|editnote|edit_by|editedby|"
                       r"modified)[\w-]*(?:$|\s)", re.IGNORECASE)


def is_edit_notice(element) -> bool:
    """An "edited by" notice: an edit-hinted element saying so, or a short one that starts
    with those words ("Last edited by olena_k; 11-12-2026 at 05:02 PM")."""
    text = element.text_content() or ""
    if len(text) > 300:
        return False
    return bool((EDIT_HINT.search(classes(element)) and EDIT_TEXT.search(text))
                or EDIT_NOTICE_TEXT.match(" ".join(text.split())))


def edit_notice(outside: list) -> str | None:
    for element in outside:
        if is_edit_notice(element):
            return " ".join((element.text_content() or "").split())
    return None
