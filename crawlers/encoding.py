"""Pages decoded in the encoding their bytes are really in, whatever the server claims.

Forums lie about encodings: a board serving windows-1251 bytes under ``charset=UTF-8`` turns
every post into ``� ������``. :func:`choose_encoding` (pure, no Scrapy) checks the declared
encodings against the bytes and sniffs the real one when they do not fit;
:class:`EncodingCheckMiddleware` applies it to every HTML, XML and JSON response and refuses
a page that no encoding reads cleanly (the spider's errback then counts it and the thread is
looked at again on the next crawl).
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, JsonResponse, XmlResponse
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from store.textcheck import REPLACEMENT, garble_marks

logger = logging.getLogger(__name__)

# A well-formed multi-byte UTF-8 sequence: rare by chance in single-byte encoded text.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
                            rb"|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True)
class EncodingChoice:
    """How to read a page: ``encoding`` (``None``: no encoding reads it cleanly), whether it
    differs from what the page declares (``repaired``), and why, for logs."""

    encoding: str | None
    repaired: bool
    detail: str


class BadEncoding(IgnoreRequest):
    """A page whose bytes no encoding reads cleanly; it is not parsed."""


def choose_encoding(body: bytes, header: str | None = None,
                    meta: str | None = None) -> EncodingChoice:
    """The encoding to read ``body`` in, given the one its HTTP header declares (``header``)
    and the one the page itself declares (``meta``: ``<meta charset>``, ``http-equiv`` or the
    XML declaration; found in ``body`` when not given).

    A byte-order mark wins. Otherwise the header, then the page's declaration, is used if it
    decodes the bytes strictly, with no replacement characters (a single-byte encoding also
    must not be claimed by bytes that are valid UTF-8, nor read as mojibake). Failing that, the
    encoding is sniffed with ``charset-normalizer``; a page that nothing reads cleanly gets
    ``encoding=None``.
    """
    bom, _ = read_bom(body)
    if bom:
        clean = _decodes(body, bom)
        return EncodingChoice(bom if clean else None, False, "byte-order mark")
    if meta is None:
        meta = html_body_declared_encoding(body)
    declared = [name for name in dict.fromkeys((_resolve(header), _resolve(meta))) if name]
    # What a reader takes by default: the header, else the page's own declaration.
    stated = declared[0] if declared else None
    if body.isascii():
        return EncodingChoice(stated or "utf-8", False, "plain ASCII")
    for name in declared:
        if _fits(body, name):
            return EncodingChoice(name, name != stated, f"declared {name}")
    guesses = _sniff(body)
    readable = [name for name in guesses
                if _decodes(body, name) and not (_single_byte(name) and _mostly_utf8(body))]
    if readable:
        # the sniffer's order, but a reading without mojibake first (windows-1250 and -1251
        # both decode Cyrillic bytes; only one gives words)
        guess = next((name for name in readable if not garble_marks(body.decode(name))),
                     readable[0])
        detail = f"declared {', '.join(declared)}, read as {guess}" if declared else guess
        # sniffing an undeclared page is what any reader does: no repair
        return EncodingChoice(guess, stated is not None and guess != stated, detail)
    tried = ", ".join(dict.fromkeys([*declared, *guesses])) or "nothing declared"
    return EncodingChoice(None, False, f"no encoding reads it cleanly (tried {tried})")


def _resolve(name: str | None) -> str | None:
    """A codec name for a declared encoding (WHATWG aliases: ``latin-1`` is windows-1252);
    ``None`` for an unknown one."""
    resolved = resolve_encoding(name) if name else None
    try:
        return codecs.lookup(resolved).name if resolved else None
    except LookupError:
        return None


def _decodes(body: bytes, name: str) -> bool:
    """``body`` decodes in ``name`` with no error and no replacement character."""
    try:
        return REPLACEMENT not in body.decode(name)
    except (UnicodeDecodeError, LookupError):
        return False


def _fits(body: bytes, name: str) -> bool:
    """A declared encoding fits the bytes: they decode cleanly, and for a single-byte
    encoding (which decodes almost any bytes) they are not UTF-8 and read as no mojibake."""
    if not _decodes(body, name):
        return False
    if not _single_byte(name):
        return True
    return not _mostly_utf8(body) and not garble_marks(body.decode(name))


def _single_byte(name: str) -> bool:
    return codecs.lookup(name).name not in _MULTI_BYTE


_MULTI_BYTE = {codecs.lookup(name).name for name in (
    "utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be",
    "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "shift_jis", "cp932", "euc_jp",
    "iso2022_jp", "euc_kr", "cp949", "johab", "hz")}


def _mostly_utf8(body: bytes) -> bool:
    """More well-formed UTF-8 sequences than stray high bytes: UTF-8 text (perhaps with a
    few broken bytes), not a single-byte encoding."""
    sequences = _UTF8_SEQUENCE.findall(body)
    if not sequences:
        return False
    stray = sum(byte >= 0x80 for byte in body) - sum(len(s) for s in sequences)
    return len(sequences) > stray


def _sniff(body: bytes) -> list[str]:
    """Likely encodings, most likely first: sniffed from the text between the tags (markup
    dilutes the letters a sniffer judges by), then from the whole body."""
    text = _TAG.sub(b" ", body)
    found = [_resolve(match.encoding) for sample in (text, body) for match in from_bytes(sample)]
    return [name for name in dict.fromkeys(found) if name]


_TAG = re.compile(rb"<[^>]*>")


class EncodingCheckMiddleware:
    """Reads every HTML, XML and JSON page in the encoding its bytes are in: a wrong
    declaration is overridden (``otklik/encoding/repaired``); a page nothing reads cleanly is
    refused with :class:`BadEncoding` (``otklik/encoding/undecodable`` and a warning naming
    the URL), so its spider's errback counts it as skipped and it is fetched again next time.

    A source that forces its encoding (the forum spider's ``encoding`` option) is left alone.
    """

    TEXT_RESPONSES = (HtmlResponse, XmlResponse, JsonResponse)

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if not isinstance(response, self.TEXT_RESPONSES) or not 200 <= response.status < 300:
            return response
        if getattr(self.crawler.spider, "forced_encoding", None):
            return response
        header = http_content_type_encoding(
            response.headers.get(b"Content-Type", b"").decode("latin-1"))
        choice = choose_encoding(response.body, header)
        if choice.encoding is None:
            self.stats.inc_value("otklik/encoding/undecodable")
            logger.warning("bad encoding: %s %s", response.url, choice.detail)
            raise BadEncoding(f"bad encoding: {choice.detail}")
        if choice.repaired:
            self.stats.inc_value("otklik/encoding/repaired")
            logger.info("encoding repaired: %s %s", response.url, choice.detail)
        if choice.encoding != response.encoding:
            return response.replace(encoding=choice.encoding)
        return response
