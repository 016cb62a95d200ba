"""Text → sentences and hits (brands, products, competitors, touchpoints, intents).

Pure text in, evidence out: every hit names its sentence and the exact characters it rests
on (``text[hit.start:hit.end] == hit.evidence``). The semantic touchpoint step is injected
(``semantic=SemanticTouchpoints(catalogue)``) and runs only on sentences without a cue.

A text longer than the pipeline reads (spaCy's ``nlp.max_length``, a million characters) is
cut to fit, at a sentence end near the limit where there is one; its analysis says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from spacy.tokens import Doc

from config.catalogue import Catalogue
from nlp.components import Hit, doc_hits
from nlp.pipeline import load_nlp, pipeline_language

KIND_ORDER = {"brand": 0, "competitor": 1, "product": 2, "touchpoint": 3, "intent": 4}
BOUNDARY_WINDOW = 2000  # how far back from the limit a cut looks for a sentence end
SENTENCE_END = re.compile(r"[.!?…](?=\s)|\n")
SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TextAnalysis:
    text: str
    lang: str  # the pipeline that read it: ru, uk or en
    sentences: tuple[Sentence, ...]
    hits: tuple[Hit, ...]
    cut: bool = False  # only the start of a text too long for the pipeline was read

    def of_kind(self, *kinds: str) -> list[Hit]:
        """Hits of these kinds, in order."""
        return [hit for hit in self.hits if hit.kind in kinds]

    def keys(self, *kinds: str) -> list[str]:
        """Distinct keys of the hits of these kinds, in order of first appearance."""
        return list(dict.fromkeys(hit.key for hit in self.of_kind(*kinds)))


def hit_order(hit: Hit) -> tuple:
    return (hit.start, hit.end, KIND_ORDER.get(hit.kind, 9), hit.key, hit.method)


def sentences_of(doc: Doc) -> tuple[Sentence, ...]:
    """The doc's sentences with surrounding whitespace trimmed from text and offsets."""
    out = []
    for index, sent in enumerate(doc.sents):
        raw = sent.text
        start = sent.start_char + len(raw) - len(raw.lstrip())
        text = raw.strip()
        out.append(Sentence(index, text, start, start + len(text)))
    return tuple(out)


def cut_to_fit(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else the start of it that ends at the
    last sentence end (else line break, else space) in the ``BOUNDARY_WINDOW`` characters
    before the limit, or exactly at the limit when there is none."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in (SENTENCE_END, SPACE):
        ends = [match.end() for match in boundary.finditer(head, max(0, limit - BOUNDARY_WINDOW))]
        if ends:
            return head[:ends[-1]]
    return head


def analyze_text(text: str, lang: str, catalogue: Catalogue | None = None,
                 semantic=None) -> TextAnalysis:
    """Analyse one text in ``lang`` (ru, uk, en; anything else goes through en)."""
    return analyze_texts([(text, lang)], catalogue, semantic)[0]


def analyze_texts(items: Sequence[tuple[str, str]], catalogue: Catalogue | None = None,
                  semantic=None, batch_size: int = 64) -> list[TextAnalysis]:
    """Analyse ``(text, lang)`` pairs, one ``nlp.pipe`` per language and one encoder pass."""
    by_lang: dict[str, list[int]] = {}
    for i, (_, lang) in enumerate(items):
        by_lang.setdefault(pipeline_language(lang), []).append(i)
    analyses: list[TextAnalysis | None] = [None] * len(items)
    for lang, indices in sorted(by_lang.items()):
        nlp = load_nlp(lang, catalogue)
        texts = [cut_to_fit(items[i][0], nlp.max_length) for i in indices]
        docs = nlp.pipe(texts, batch_size=batch_size)
        for i, text, doc in zip(indices, texts, docs, strict=True):
            analyses[i] = TextAnalysis(text, lang, sentences_of(doc),
                                       tuple(sorted(doc_hits(doc), key=hit_order)),
                                       cut=len(text) < len(items[i][0]))
    done = [a for a in analyses if a is not None]
    return add_semantic_touchpoints(done, semantic) if semantic is not None else done


def add_semantic_touchpoints(analyses: list[TextAnalysis], semantic) -> list[TextAnalysis]:
    """Add a semantic touchpoint hit to each sentence that has no touchpoint cue."""
    todo = []
    for a, analysis in enumerate(analyses):
        cued = {hit.sentence for hit in analysis.of_kind("touchpoint")}
        todo += [(a, s) for s in analysis.sentences if s.index not in cued and s.text]
    matches = semantic.match([sentence.text for _, sentence in todo]) if todo else []
    extra: dict[int, list[Hit]] = {}
    for (a, sentence), match in zip(todo, matches, strict=True):
        if match is not None:
            extra.setdefault(a, []).append(Hit(
                "touchpoint", match.key, match.label, sentence.start, sentence.end,
                sentence.index, sentence.text, "semantic", match.confidence,
                {"similarity": match.similarity, "margin": match.margin}))
    return with_hits(analyses, extra)


def add_learned_touchpoints(analyses: list[TextAnalysis], vectors: np.ndarray,
                            model, labels: dict[str, str]) -> list[TextAnalysis]:
    """Add the learned model's touchpoints to each sentence (``vectors``: one row per
    sentence of every analysis, in order; see ``analysis_units``), except those a cue of
    the sentence already names. Each hit keeps its probability and the labelled sentences
    it resembles most."""
    found = model.predict(vectors) if len(vectors) else []
    extra: dict[int, list[Hit]] = {}
    row = 0
    for a, analysis in enumerate(analyses):
        cued = {(hit.sentence, hit.key) for hit in analysis.of_kind("touchpoint")}
        for sentence in units_of(analysis):
            for learned in found[row]:
                if (sentence.index, learned.key) not in cued:
                    extra.setdefault(a, []).append(Hit(
                        "touchpoint", learned.key, labels.get(learned.key, learned.key),
                        sentence.start, sentence.end, sentence.index, sentence.text,
                        "learned", learned.probability,
                        {"probability": learned.probability, "nearest": list(learned.nearest),
                         "model": model.version}))
            row += 1
    return with_hits(analyses, extra)


def units_of(analysis: TextAnalysis) -> tuple[Sentence, ...]:
    """The sentences a text is read in: its sentences, or the whole text when it has none."""
    return analysis.sentences or (Sentence(0, analysis.text, 0, len(analysis.text)),)


def with_hits(analyses: list[TextAnalysis], extra: dict[int, list[Hit]]) -> list[TextAnalysis]:
    """The analyses with ``extra`` hits (by analysis index) added in order."""
    return [TextAnalysis(a.text, a.lang, a.sentences,
                         tuple(sorted(a.hits + tuple(extra.get(i, ())), key=hit_order)), a.cut)
            for i, a in enumerate(analyses)]
