"""Why a mention got its tags: the text split into plain segments, some marked as evidence
(the sentences that carry the sentiment, the words that matched a brand, product or
touchpoint). Segments are plain text; ``to_markdown`` escapes every character that Markdown
or Streamlit would interpret, so nothing a post contains is ever rendered as markup."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ASCII_PUNCTUATION = frozenset(string.punctuation)
SENTENCE_COLOURS = {"negative": "red", "positive": "green", "neutral": "gray"}
NBSP = "\u00a0"


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of a text, marked as a ``sentence`` or a ``match``."""

    start: int
    end: int
    kind: str  # "sentence" or "match"
    label: str


@dataclass(frozen=True)
class Segment:
    """A run of plain text with the sentence label and the match label it falls in."""

    text: str
    sentence: str | None = None
    match: str | None = None


def locate(text: str, needle: str | None, hint: int = 0) -> tuple[int, int] | None:
    """Where ``needle`` is in ``text`` (exactly, else ignoring case), nearest after ``hint``."""
    if not needle or not needle.strip():
        return None
    needle = needle.strip()
    for haystack, wanted in ((text, needle), (text.lower(), needle.lower())):
        if len(haystack) != len(text):
            continue
        at = haystack.find(wanted, max(0, hint))
        if at < 0:
            at = haystack.find(wanted)
        if at >= 0:
            return at, at + len(wanted)
    return None


def _field(item, name: str):
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def hit_spans(text: str, hits: Iterable) -> list[Span]:
    """Spans of the matched words of hits (dicts or objects with kind, key, label, start,
    end, evidence). The stored offsets are used when they still point at the evidence;
    otherwise the evidence is looked up in the text; a hit that cannot be found is left
    out."""
    spans = []
    for hit in hits:
        kind, key = _field(hit, "kind"), _field(hit, "key")
        start, end, evidence = _field(hit, "start"), _field(hit, "end"), _field(hit, "evidence")
        label = f"{kind}: {_field(hit, 'label') or key}"
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text) \
                and (not evidence or text[start:end] == evidence):
            spans.append(Span(start, end, "match", label))
        elif found := locate(text, evidence, start if isinstance(start, int) else 0):
            spans.append(Span(*found, "match", label))
    return spans


def sentence_spans(text: str, sentences: Iterable) -> list[Span]:
    """Spans of the evidence sentences of a sentiment tag (``{"text", "label"}`` items)."""
    spans = []
    for sentence in sentences:
        found = locate(text, _field(sentence, "text"))
        if found:
            spans.append(Span(*found, "sentence", _field(sentence, "label") or "evidence"))
    return spans


def segments(text: str, spans: Iterable[Span]) -> list[Segment]:
    """``text`` cut at every span boundary; each piece knows its sentence and match labels
    (overlapping labels of one kind are joined with ", "). Joining the pieces gives
    ``text`` back unchanged."""
    valid = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    cuts = sorted({0, len(text), *(s.start for s in valid), *(s.end for s in valid)})
    pieces = []
    for begin, finish in zip(cuts, cuts[1:], strict=False):
        inside = [s for s in valid if s.start <= begin and finish <= s.end]
        sentence = _labels(s.label for s in inside if s.kind == "sentence")
        match = _labels(s.label for s in inside if s.kind == "match")
        if pieces and (pieces[-1].sentence, pieces[-1].match) == (sentence, match):
            pieces[-1] = Segment(pieces[-1].text + text[begin:finish], sentence, match)
        else:
            pieces.append(Segment(text[begin:finish], sentence, match))
    return pieces


def _labels(labels: Iterable[str]) -> str | None:
    unique = list(dict.fromkeys(labels))
    return ", ".join(unique) if unique else None


def escape_markdown(text: str, line_start: bool = True) -> str:
    """``text`` as Markdown that displays exactly ``text``: every ASCII punctuation character
    backslash-escaped (no emphasis, links, images, HTML, entities, tables, Streamlit colour
    directives, emoji shortcodes or LaTeX), leading spaces made non-breaking (no code
    blocks), line breaks kept as hard breaks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").split("\n")
    out = []
    for number, line in enumerate(lines):
        if line_start or number > 0:
            stripped = line.lstrip(" ")
            line = NBSP * (len(line) - len(stripped)) + stripped
        out.append("".join("\\" + c if c in ASCII_PUNCTUATION else c for c in line))
    return "  \n".join(out)


def _wrap(escaped: str, before: str, after: str) -> str:
    """Put markers around the non-blank middle (Markdown ignores markers next to spaces)."""
    core = escaped.strip(" " + NBSP)
    if not core or "\n" in core:
        return escaped
    left = escaped[: len(escaped) - len(escaped.lstrip(" " + NBSP))]
    right = escaped[len(escaped.rstrip(" " + NBSP)):]
    return f"{left}{before}{core}{after}{right}"


def to_markdown(pieces: Iterable[Segment]) -> str:
    """Escaped Markdown of the segments: each evidence sentence on a coloured background
    (red negative, green positive, grey neutral), matched words in bold."""
    out, line_start = [], True
    groups: list[tuple[str | None, list[Segment]]] = []
    for piece in pieces:
        if groups and groups[-1][0] == piece.sentence:
            groups[-1][1].append(piece)
        else:
            groups.append((piece.sentence, [piece]))
    for sentence, members in groups:
        parts = []
        for piece in members:
            escaped = escape_markdown(piece.text, line_start)
            parts.append(_wrap(escaped, "**", "**") if piece.match else escaped)
            if piece.text:
                line_start = piece.text.endswith(("\n", "\r"))
        text = "".join(parts)
        if sentence:
            colour = SENTENCE_COLOURS.get(sentence.split(",")[0], "orange")
            text = _wrap(text, f":{colour}-background[", "]")
        out.append(text)
    return "".join(out)


def plain_text(pieces: Iterable[Segment]) -> str:
    """The segments joined back into the original text."""
    return "".join(piece.text for piece in pieces)


SAFE_SCHEMES = ("http://", "https://")


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) link, else None: a post's link must never be
    ``javascript:`` or ``data:``."""
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    return url if url.lower().startswith(SAFE_SCHEMES) and " " not in url else None
