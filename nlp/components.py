"""Shared spaCy parts: the ``Hit`` record, word normalisation and the small components.

Registered factories:

- ``otklik_lemmas``: lower-case, ё→е lemmas; resolves what ``pymorphy3_lookup`` leaves
  ambiguous and lemmatises Ukrainian / Russian words inside a post of the other language.
- ``otklik_sentence_breaks``: a line break starts a sentence (posts often have no full
  stops); whitespace never starts one.
- ``otklik_brands``: brands, competitors and products (see ``BrandMatcher``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.tokens import Doc, Span, Token

CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
UK_ONLY = re.compile(r"[іїєґ]", re.IGNORECASE)
RU_ONLY = re.compile(r"[ыэъё]", re.IGNORECASE)
APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "ё": "е", "Ё": "Е"})
ENDINGS_FILE = Path(__file__).resolve().parent / "patterns" / "endings.yaml"
HITS = "otklik_hits"
STEM = "otklik_stem"
ENTITY = "otklik_entity"
PHRASE_PIPES = ("lemmatizer", "otklik_lemmas")


@dataclass(frozen=True)
class Hit:
    """One finding with its evidence: ``text[start:end] == evidence``.

    kind: brand, product, competitor, touchpoint or intent; key: the catalogue id or intent
    name; sentence: index into the analysed sentences; method: how it was found.
    """

    kind: str
    key: str
    label: str
    start: int
    end: int
    sentence: int
    evidence: str
    method: str
    confidence: float
    extra: dict[str, Any] = field(default_factory=dict, hash=False)


def normalise_word(text: str) -> str:
    """Lower case, ё→е, typographic apostrophes → ``'``."""
    return text.translate(APOSTROPHES).lower()


@cache
def _endings() -> tuple[int, tuple[str, ...]]:
    """``(min_stem, endings longest first)`` from ``patterns/endings.yaml``."""
    data = yaml.safe_load(ENDINGS_FILE.read_text(encoding="utf-8"))
    endings = {ending for by_lang in data["endings"].values() for ending in by_lang}
    return int(data["min_stem"]), tuple(sorted(endings, key=lambda e: (-len(e), e)))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude lower-case stem: Cyrillic words lose one inflectional ending.

    Catches brand names pymorphy3 does not know ("Теленову", "МТСе", "Вольною"); Latin words
    come back lower-cased only.
    """
    word = normalise_word(word)
    if not CYRILLIC.search(word):
        return word
    min_stem, endings = _endings()
    for ending in endings:
        if word.endswith(ending) and len(word) - len(ending) >= min_stem:
            return word[: -len(ending)]
    return word


def word_language(word: str, default: str) -> str:
    """ru or uk for a Cyrillic word: its own letters decide, else ``default`` (ru if unsure)."""
    if UK_ONLY.search(word):
        return "uk"
    if RU_ONLY.search(word):
        return "ru"
    return default if default in ("ru", "uk") else "ru"


@cache
def _morph(lang: str):
    from pymorphy3 import MorphAnalyzer

    return MorphAnalyzer(lang=lang)


def _pos_rank(tag) -> int:
    if tag.POS in ("VERB", "INFN", "GRND", "PRTF", "PRTS"):
        return 0
    if {"Name", "Surn", "Patr"} & set(tag.grammemes):
        return 4
    if tag.POS == "NOUN":
        return 1
    if tag.POS in ("ADJF", "ADJS", "COMP", "ADVB"):
        return 2
    return 3


@lru_cache(maxsize=65536)
def best_lemma(lang: str, word: str) -> str:
    """pymorphy3's most likely normal form; ties go to verbs, then nouns (cues are mostly)."""
    ranked: dict[str, tuple[float, int]] = {}
    for parse in _morph(lang).parse(word.translate(APOSTROPHES)):
        score, rank = ranked.get(parse.normal_form, (0.0, 9))
        ranked[parse.normal_form] = (score + parse.score, min(rank, _pos_rank(parse.tag)))
    if not ranked:
        return word
    return min(ranked, key=lambda nf: (-round(ranked[nf][0], 6), ranked[nf][1], nf))


@lru_cache(maxsize=65536)
def best_pos(lang: str, word: str) -> str | None:
    """pymorphy3's part of speech of the most likely parse (``NOUN``, ``NPRO``, ``NUMR``, …);
    ``None`` for a word it cannot tag."""
    parses = _morph(lang).parse(word.translate(APOSTROPHES))
    return parses[0].tag.POS if parses else None


class LemmaNormaliser:
    """Makes ``token.lemma_`` a lower-case key that patterns and texts share."""

    def __init__(self, lang: str):
        self.lang = lang

    def lemma(self, token: Token) -> str:
        text = token.text
        if CYRILLIC.search(text):
            lang = word_language(text, self.lang)
            plain = lang == self.lang and normalise_word(text) == text.lower()
            resolved = token.lemma_ and token.lemma_.lower() != text.lower()
            if not (plain and resolved):
                return normalise_word(best_lemma(lang, text))
        return normalise_word(token.lemma_ or text)

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = self.lemma(token)
        return doc


@Language.factory("otklik_lemmas")
def make_lemma_normaliser(nlp: Language, name: str) -> LemmaNormaliser:
    return LemmaNormaliser(nlp.lang)


@Language.component("otklik_sentence_breaks")
def sentence_breaks(doc: Doc) -> Doc:
    """After the sentencizer: a line break starts a sentence, whitespace never does."""
    seen_text = pending = False
    for token in doc:
        if token.is_space:
            if token.i > 0 and token.is_sent_start:
                token.is_sent_start = False
                pending = True
            pending = pending or "\n" in token.text
            continue
        if token.i > 0 and "\n" in doc[token.i - 1].whitespace_:
            pending = True
        if pending and seen_text:
            token.is_sent_start = True
        seen_text, pending = True, False
    return doc


def register_extensions() -> None:
    """Doc / Token attributes the components write: hits, stems, entity kinds."""
    if not Doc.has_extension(HITS):
        Doc.set_extension(HITS, default=None)
    if not Token.has_extension(STEM):
        Token.set_extension(STEM, getter=lambda token: stem(token.text))
    if not Token.has_extension(ENTITY):
        Token.set_extension(ENTITY, default="")


register_extensions()


def doc_hits(doc: Doc) -> list[Hit]:
    """The hits components have added to ``doc`` (created on first use)."""
    hits = doc._.get(HITS)
    if hits is None:
        hits = []
        doc._.set(HITS, hits)
    return hits


def sentence_index(doc: Doc) -> dict[int, int]:
    """Token index → index of its sentence."""
    return {token.i: n for n, sent in enumerate(doc.sents) for token in sent}


def span_hit(span: Span, sentence: int, kind: str, key: str, label: str, method: str,
             confidence: float, **extra: Any) -> Hit:
    """A hit whose evidence is exactly ``span``."""
    return Hit(kind, key, label, span.start_char, span.end_char, sentence, span.text, method,
               round(confidence, 3), extra)


def phrase_doc(nlp: Language, text: str) -> Doc:
    """``text`` tokenised and lemmatised as the pipeline does it (for building patterns)."""
    doc = nlp.make_doc(text)
    for name, proc in nlp.pipeline:
        if name in PHRASE_PIPES:
            doc = proc(doc)
    return doc


def longest_first(
    spans: list[tuple[int, int, Any]], rank: Callable[[Any], Any] = lambda payload: 0
) -> list[tuple[int, int, Any]]:
    """Keep the longest of overlapping ``(start, end, payload)`` spans.

    Ties go to the lower ``rank(payload)``, then to the earlier span.
    """
    kept: list[tuple[int, int, Any]] = []
    taken: set[int] = set()
    for start, end, payload in sorted(spans, key=lambda s: (s[0] - s[1], rank(s[2]), s[0])):
        if taken.isdisjoint(range(start, end)):
            kept.append((start, end, payload))
            taken.update(range(start, end))
    return sorted(kept, key=lambda s: (s[0], s[1]))


# --------------------------------------------------------------------------- brands

METHOD_RANK = {"hashtag": 0, "alias": 1, "lemma": 2, "stem": 3}
BRAND_CONFIDENCE = {"hashtag": 0.95, "alias": 0.95, "lemma": 0.9, "stem": 0.8}
CONTEXT_CONFIDENCE = 0.85
CAPITALISED_CONFIDENCE = 0.7
CONFIRMED_CONFIDENCE = 0.6


def compact(alias: str) -> str:
    """The form an alias takes inside a hashtag: ``Volna Home`` → ``volnahome``."""
    return re.sub(r"[\s#_\-.'’]", "", normalise_word(alias))


def brand_entries(catalogue) -> list[dict[str, Any]]:
    """The ``otklik_brands`` config from a catalogue: one entry per brand and product."""
    entries = []
    for brand in catalogue.brands:
        entries.append({
            "key": brand.id, "kind": "brand" if brand.own else "competitor",
            "label": brand.name, "brand": brand.id, "own": brand.own,
            "aliases": list(brand.aliases), "ambiguous": list(brand.ambiguous),
            "context": list(brand.context),
        })
        entries.extend({
            "key": product.id, "kind": "product", "label": product.name, "brand": brand.id,
            "own": brand.own, "aliases": list(product.aliases), "ambiguous": [], "context": [],
        } for product in brand.products)
    return entries


@dataclass(frozen=True)
class _Alias:
    entry: int
    text: str
    ambiguous: bool
    caps: tuple[bool, ...] = ()  # which of its words start with a capital
    common: bool = False  # one Cyrillic word that the dictionary knows as an ordinary word


PROPER = {"Name", "Surn", "Patr", "Geox", "Orgn", "Trad", "Abbr"}


def is_common_word(word: str, lang: str) -> bool:
    """True for a Cyrillic word pymorphy3 knows, not as a name ("Вольна": free; not "МТС")."""
    if not CYRILLIC.search(word) or " " in word:
        return False
    morph = _morph(word_language(word, lang))
    if not morph.word_is_known(word.lower()):
        return False
    return any(not PROPER & set(parse.tag.grammemes) for parse in morph.parse(word))


def _same_case(span: Span, caps: tuple[bool, ...]) -> bool:
    """Words after the first are capitalised as in the alias ("Волна Дом", not "Волна дома").

    Guards lemma and stem matches of multi-word aliases; an all-caps span passes.
    """
    if len(span) < 2 or len(caps) != len(span) or span.text.isupper():
        return True
    return all(token.text[:1].isupper() == cap for token, cap in zip(span[1:], caps[1:],
                                                                        strict=True))


@dataclass(frozen=True)
class _Context:
    lemmas: frozenset[str]
    stems: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]

    def find(self, sent: Span, skip: range) -> str | None:
        """The first context word of ``sent`` outside ``skip`` (token indices)."""
        for token in sent:
            if token.i not in skip and (
                token.lemma_ in self.lemmas or token._.get(STEM) in self.stems
            ):
                return token.text
        lemmas = [token.lemma_ for token in sent]
        for phrase in self.phrases:
            for i in range(len(lemmas) - len(phrase) + 1):
                if tuple(lemmas[i : i + len(phrase)]) == phrase:
                    return sent[i : i + len(phrase)].text
        return None


def _capitalised_mid_sentence(span: Span, sent: Span) -> bool:
    words = [token for token in sent if token.is_alpha]
    if not span[0].text[:1].isupper() or not words or words[0].i >= span.start:
        return False
    return sum(token.is_upper for token in words) * 2 <= len(words)


class BrandMatcher:
    """Brands, competitors and products by alias, lemma, stem and hashtag.

    An ambiguous alias counts with a context word in its sentence (method ``context``), when
    capitalised mid-sentence, or when capitalised and the text names the brand for sure
    elsewhere (``confirmed_in_text``); hashtags always count. An alias that is an ordinary
    word ("Вольна": free) is treated as ambiguous in inflected lower-case forms. Overlaps: the
    longest wins, products before brands.
    """

    def __init__(self, nlp: Language, entries: list[dict[str, Any]]):
        self.nlp = nlp
        self.entries = entries
        self.ready = False

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        nlp = nlp or self.nlp
        self.aliases: list[_Alias] = []
        self.hashtags: dict[str, int] = {}
        self.contexts: list[_Context] = []
        self.matchers = {"alias": PhraseMatcher(nlp.vocab, attr="LOWER"),
                         "lemma": PhraseMatcher(nlp.vocab, attr="LEMMA"),
                         "stem": Matcher(nlp.vocab)}
        for e, entry in enumerate(self.entries):
            ambiguous = {alias.casefold() for alias in entry.get("ambiguous", ())}
            for text in entry["aliases"]:
                key = str(len(self.aliases))
                doc = phrase_doc(nlp, text)
                caps = tuple(t.text[:1].isupper() for t in doc)
                common = len(doc) == 1 and is_common_word(text, nlp.lang)
                self.aliases.append(_Alias(e, text, text.casefold() in ambiguous, caps, common))
                self.hashtags.setdefault(compact(text), int(key))
                if text.startswith("#"):
                    continue
                self.matchers["alias"].add(key, [doc])
                self.matchers["lemma"].add(key, [doc])
                if CYRILLIC.search(text):
                    self.matchers["stem"].add(key, [[{"_": {STEM: stem(t.text)}} for t in doc]])
            self.contexts.append(self._context(nlp, entry.get("context", ())))
        self.ready = True

    @staticmethod
    def _context(nlp: Language, words) -> _Context:
        docs = [phrase_doc(nlp, word) for word in words]
        single = [doc[0] for doc in docs if len(doc) == 1]
        return _Context(
            frozenset(t.lemma_ for t in single),
            frozenset(stem(t.text) for t in single),
            tuple(tuple(t.lemma_ for t in doc) for doc in docs if len(doc) > 1),
        )

    def candidates(self, doc: Doc) -> dict[tuple[int, int, int], str]:
        """``(start, end, alias index) → method`` for every way an alias matches."""
        found: dict[tuple[int, int, int], str] = {}
        for token in doc:
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if token.text == "#" and following is not None and not token.whitespace_:
                alias = self.hashtags.get(compact(following.text))
                if alias is not None:
                    found[(token.i, token.i + 2, alias)] = "hashtag"
            elif token.text.startswith("#") and compact(token.text) in self.hashtags:
                found[(token.i, token.i + 1, self.hashtags[compact(token.text)])] = "hashtag"
        for method, matcher in self.matchers.items():
            for match_id, start, end in matcher(doc):
                found.setdefault((start, end, int(self.nlp.vocab.strings[match_id])), method)
        return found

    def _rank(self, payload: tuple) -> tuple[int, int]:
        """Products before brands, then by method, among spans of equal length."""
        alias, method = payload[0], payload[1]
        return (self.entries[alias.entry]["kind"] != "product", METHOD_RANK.get(method, 0))

    def __call__(self, doc: Doc) -> Doc:
        if not self.ready:
            self.initialize()
        sentences = sentence_index(doc)
        accepted, doubtful = [], []
        for (start, end, a), method in self.candidates(doc).items():
            alias, span = self.aliases[a], doc[start:end]
            if method in ("lemma", "stem") and not _same_case(span, alias.caps):
                continue
            extra: dict[str, Any] = {"alias": alias.text}
            confidence = BRAND_CONFIDENCE[method]
            if alias.common and method in ("lemma", "stem") and span.text.islower():
                extra["common_word"] = True  # "вольной борьбой" is not "Вольна"
            if method != "hashtag" and (alias.ambiguous or extra.get("common_word")):
                word = self.contexts[alias.entry].find(span.sent, range(start, end))
                if word is not None:
                    method, confidence, extra["context"] = "context", CONTEXT_CONFIDENCE, word
                elif _capitalised_mid_sentence(span, span.sent):
                    confidence, extra["capitalised"] = CAPITALISED_CONFIDENCE, True
                else:
                    if span[0].text[:1].isupper():
                        doubtful.append((start, end, (alias, method, CONFIRMED_CONFIDENCE,
                                                      {**extra, "confirmed_in_text": True})))
                    continue
            accepted.append((start, end, (alias, method, confidence, extra)))
        named = {self.entries[p[0].entry]["brand"] for _, _, p in accepted}
        accepted += [d for d in doubtful if self.entries[d[2][0].entry]["brand"] in named]
        hits = doc_hits(doc)
        for start, end, (alias, method, confidence, extra) in longest_first(accepted, self._rank):
            entry = self.entries[alias.entry]
            if entry["kind"] == "product":
                extra["brand"] = entry["brand"]
            extra["own"] = entry["own"]
            hits.append(span_hit(doc[start:end], sentences[start], entry["kind"], entry["key"],
                                 entry["label"], method, confidence, **extra))
            for token in doc[start:end]:
                token._.set(ENTITY, entry["kind"])
        return doc


@Language.factory("otklik_brands", default_config={"entries": []})
def make_brand_matcher(nlp: Language, name: str, entries: list[dict[str, Any]]) -> BrandMatcher:
    return BrandMatcher(nlp, entries)
