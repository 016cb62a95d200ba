"""Customer-journey touchpoints: catalogue cue phrases matched on lemmas, and an optional
semantic match (sentence embedding vs. each touchpoint's example sentences, or its
description and cues) for sentences that name no cue word."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlp.components import doc_hits, longest_first, phrase_doc, sentence_index, span_hit

SINGLE_CUE_CONFIDENCE = 0.7
PHRASE_CUE_CONFIDENCE = 0.85
# (threshold, margin) chosen on nlp/data/touchpoint_dev.jsonl, see nlp/data/README.md:
# with example sentences, and with only each touchpoint's description and cues.
TUNED = {"examples": (0.885, 0.0), "descriptions": (0.845, 0.01)}
MIN_WORDS = 3
WORD = re.compile(r"\w+")


def touchpoint_entries(catalogue) -> list[dict[str, Any]]:
    """The ``otklik_touchpoints`` config from a catalogue."""
    return [{"key": t.id, "label": t.name,
             "cues": {lang: list(cues) for lang, cues in sorted(t.cues.items())}}
            for t in catalogue.touchpoints]


class CueMatcher:
    """Touchpoint cue phrases of every language, matched on lemmas (longest cue wins)."""

    def __init__(self, nlp: Language, touchpoints: list[dict[str, Any]]):
        self.nlp = nlp
        self.touchpoints = touchpoints
        self.labels = {t["key"]: t["label"] for t in touchpoints}
        self.ready = False

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        nlp = nlp or self.nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.cues: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
        for entry in self.touchpoints:
            for lang, cues in sorted(entry["cues"].items()):
                for cue in cues:
                    doc = phrase_doc(nlp, cue)
                    self.cues.setdefault((entry["key"], tuple(t.lemma_ for t in doc)), (cue, lang))
                    self.matcher.add(entry["key"], [doc])
        self.ready = True

    def __call__(self, doc: Doc) -> Doc:
        if not self.ready:
            self.initialize()
        sentences = sentence_index(doc)
        keys: dict[tuple[int, int], set[str]] = {}
        for match_id, start, end in self.matcher(doc):
            keys.setdefault((start, end), set()).add(self.nlp.vocab.strings[match_id])
        hits = doc_hits(doc)
        for start, end, found in longest_first([(s, e, k) for (s, e), k in keys.items()]):
            span = doc[start:end]
            confidence = PHRASE_CUE_CONFIDENCE if len(span) > 1 else SINGLE_CUE_CONFIDENCE
            for key in sorted(found):
                cue, lang = self.cues[(key, tuple(t.lemma_ for t in span))]
                hits.append(span_hit(span, sentences[start], "touchpoint", key, self.labels[key],
                                     "cue", confidence, cue=cue, lang=lang))
        return doc


@Language.factory("otklik_touchpoints", default_config={"touchpoints": []})
def make_cue_matcher(nlp: Language, name: str, touchpoints: list[dict[str, Any]]) -> CueMatcher:
    return CueMatcher(nlp, touchpoints)


# --------------------------------------------------------------------------- semantic


@dataclass(frozen=True)
class SemanticMatch:
    key: str
    label: str
    similarity: float
    margin: float
    confidence: float


def touchpoint_texts(touchpoint) -> list[str]:
    """A touchpoint seen from the catalogue: its name and description, its cues per language."""
    texts = [f"{touchpoint.name}. {touchpoint.description}"]
    texts += [", ".join(cues) for _, cues in sorted(touchpoint.cues.items())]
    return texts


def catalogue_examples(catalogue) -> dict[str, list[str]]:
    """The catalogue's example sentences per touchpoint id, all languages together."""
    return {t.id: [text for lang in sorted(t.examples) for text in t.examples[lang]]
            for t in catalogue.touchpoints if t.examples}


def load_examples(path: str | Path) -> dict[str, list[str]]:
    """Example sentences per touchpoint id from a YAML file ``{id: {lang: [sentence, …]}}``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {key: [text for lang in sorted(by_lang) for text in by_lang[lang]]
            for key, by_lang in data.items()}


class SemanticTouchpoints:
    """The nearest touchpoint of a sentence by embedding, if near enough and clearly nearest.

    A touchpoint's vector is the mean embedding of its example sentences when ``examples``
    (a mapping id → sentences, or a YAML file for ``load_examples``; by default the
    catalogue's own ``examples``) has some for it, else of
    its description and cues. Ids the catalogue lacks are ignored. ``encoder`` is anything with
    ``encode(texts) -> unit vectors`` (default: the base e5 encoder). Vectors are computed
    once, here; threshold and margin default to the values tuned for the chosen mode.
    """

    def __init__(self, catalogue, encoder=None, *,
                 examples: Mapping[str, Sequence[str]] | str | Path | None = None,
                 threshold: float | None = None, margin: float | None = None,
                 min_words: int = MIN_WORDS):
        if encoder is None:
            from nlp.embeddings import Encoder

            encoder = Encoder()
        if examples is None:
            examples = catalogue_examples(catalogue)
        elif isinstance(examples, str | Path):
            examples = load_examples(examples)
        ids = {t.id for t in catalogue.touchpoints}
        self.examples = {k: list(v) for k, v in (examples or {}).items() if k in ids and v}
        tuned = TUNED["examples" if self.examples else "descriptions"]
        self.threshold = tuned[0] if threshold is None else threshold
        self.margin = tuned[1] if margin is None else margin
        self.encoder, self.min_words = encoder, min_words
        self.keys = [t.id for t in catalogue.touchpoints]
        self.labels = {t.id: t.name for t in catalogue.touchpoints}
        self.vectors = self.touchpoint_vectors(catalogue)

    def touchpoint_vectors(self, catalogue) -> np.ndarray:
        """One unit vector per touchpoint (one encoder call for all texts)."""
        groups = [self.examples.get(t.id) or touchpoint_texts(t) for t in catalogue.touchpoints]
        encoded = self.encoder.encode([text for group in groups for text in group])
        rows, at = [], 0
        for group in groups:
            mean = encoded[at : at + len(group)].mean(axis=0)
            rows.append(mean / np.linalg.norm(mean))
            at += len(group)
        return np.stack(rows).astype(np.float32)

    def similarities(self, sentences: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each sentence to each touchpoint, ``(len(sentences), T)``."""
        if not sentences:
            return np.zeros((0, len(self.keys)), dtype=np.float32)
        return self.encoder.encode(list(sentences)) @ self.vectors.T

    def match(self, sentences: Sequence[str]) -> list[SemanticMatch | None]:
        """The touchpoint of each sentence, or None (too short, too far, or no clear winner)."""
        out: list[SemanticMatch | None] = [None] * len(sentences)
        long_enough = [i for i, text in enumerate(sentences)
                       if len(WORD.findall(text)) >= self.min_words]
        scores = self.similarities([sentences[i] for i in long_enough])
        for i, row in zip(long_enough, scores, strict=True):
            order = np.argsort(-row, kind="stable")
            best = float(row[order[0]])
            margin = best - (float(row[order[1]]) if len(order) > 1 else 0.0)
            if best >= self.threshold and margin >= self.margin:
                key = self.keys[int(order[0])]
                out[i] = SemanticMatch(key, self.labels[key], round(best, 4), round(margin, 4),
                                       self.confidence(best, margin))
        return out

    def confidence(self, similarity: float, margin: float) -> float:
        """0.4 at the threshold, rising with similarity and margin, capped at 0.8."""
        value = 0.4 + 4.0 * (similarity - self.threshold) + 4.0 * (margin - self.margin)
        return round(min(0.8, max(0.4, value)), 3)
