"""Keeping a store's touchpoint model current: fit it on a sample of the store's own posts
and its people's labels, refit when the catalogue, the labels or the corpus change, and
queue the sentences a person's label would teach it most."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from itertools import zip_longest

import numpy as np
from sqlite_utils import Database

from nlp.analysis import analyze_texts, units_of
from nlp.language import detect_language
from nlp.touchpoint_fit import CorpusSentence, HumanLabel, fit_fingerprint, fit_touchpoints
from nlp.touchpoint_model import TouchpointModel, fingerprint
from store import touchpoint_models as stored

logger = logging.getLogger(__name__)
CORPUS_SAMPLE = 2000  # mentions read to fit on
REFIT_GROWTH = 2.0  # refit when the store has grown this many times since the last fit
QUEUE_PER_TOUCHPOINT = 10


@dataclass(frozen=True)
class FitReport:
    fitted: bool  # False: the stored model was still current
    reason: str
    version: str
    corpus_sentences: int = 0
    labels: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """What the command line says of a fit."""
        return (f"touchpoint model {self.version} fitted on {self.corpus_sentences} sentences "
                f"of this store and {self.labels} labels by people in {self.seconds:.1f} s "
                f"({self.reason})")


def refit_reason(stored_model, fit_on: str, mentions: int) -> str | None:
    """Why the stored model must be fitted again, or None when it is current."""
    if stored_model is None:
        return "no model yet"
    if stored_model.fingerprint != fit_on:
        return "the catalogue or people's labels changed"
    if mentions >= REFIT_GROWTH * max(stored_model.corpus, 1) and mentions > stored_model.corpus:
        return f"the store grew from {stored_model.corpus} to {mentions} mentions"
    return None


def prepare(db: Database, tagger, force: bool = False) -> FitReport:
    """Give ``tagger`` the store's current touchpoint model, fitting it first when needed
    (or when ``force``). A tagger without sentence vectors keeps to cue words."""
    if not tagger.reader.gives_vectors:
        return FitReport(False, "no sentence vectors: cue words only", "cues")
    labels = human_labels(db, tagger)
    fit_on = fit_fingerprint(tagger.catalogue, tagger.embedding_version, labels)
    current = stored.stored_model(db)
    mentions = stored.mention_count(db)
    reason = "asked to" if force else refit_reason(current, fit_on, mentions)
    if reason is None:
        tagger.touchpoints = TouchpointModel.from_bytes(current.blob)
        return FitReport(False, "current", tagger.touchpoints.version)
    start = time.perf_counter()
    sample = stored.corpus_sample(db, CORPUS_SAMPLE)
    sentences, owners, vectors = read_corpus(tagger, sample)
    model = fit_touchpoints(tagger.catalogue, tagger.sentence_vectors,
                            sentences, vectors, labels, fingerprint(fit_on, mentions))
    queue = review_items(model, sentences, owners, vectors, labelled_sentences(db))
    stored.save_model(db, fit_on, model.version, mentions, model.to_bytes(), queue)
    tagger.touchpoints = model
    seconds = round(time.perf_counter() - start, 1)
    logger.info("touchpoint model %s fitted on %d sentences and %d labels in %.1f s (%s)",
                model.version, len(sentences), len(labels), seconds, reason)
    return FitReport(True, reason, model.version, len(sentences), len(labels), seconds)


def read_corpus(tagger, mentions: list[tuple[str, str]]
                ) -> tuple[list[CorpusSentence], list[tuple[str, int]], np.ndarray]:
    """The sentences of ``(mention_id, text)`` with the touchpoints their cue words name,
    who they belong to ``(mention_id, sentence index)``, and their vectors."""
    analyses = analyze_texts([(text, detect_language(text).language) for _, text in mentions],
                             tagger.catalogue)
    sentences, owners = [], []
    for (mention_id, _), analysis in zip(mentions, analyses, strict=True):
        for unit in units_of(analysis):
            if not unit.text:
                continue
            cued = frozenset(hit.key for hit in analysis.of_kind("touchpoint")
                             if hit.sentence == unit.index)
            sentences.append(CorpusSentence(unit.text, cued))
            owners.append((mention_id, unit.index))
    vectors = tagger.sentence_vectors([s.text for s in sentences]) if sentences else None
    return sentences, owners, vectors if vectors is not None else np.zeros((0, 0), np.float32)


def human_labels(db: Database, tagger) -> list[HumanLabel]:
    """People's touchpoint labels: a labelled sentence by its text, a labelled mention by
    its whole text (embedded only when a fit needs them)."""
    rows = stored.sentence_labels(db)
    if not rows:
        return []
    analyses = analyze_texts([(row.text, detect_language(row.text).language) for row in rows],
                             tagger.catalogue)
    out = []
    for row, analysis in zip(rows, analyses, strict=True):
        units = units_of(analysis)
        if row.sentence is None:
            out.append(HumanLabel(analysis.text, row.touchpoint))
        elif row.sentence < len(units):
            out.append(HumanLabel(units[row.sentence].text, row.touchpoint))
    return out


def labelled_sentences(db: Database) -> set[tuple[str, int]]:
    """``(mention_id, sentence)`` pairs people have labelled."""
    return {(row.mention_id, row.sentence) for row in stored.sentence_labels(db)
            if row.sentence is not None}


def review_items(model: TouchpointModel, sentences: list[CorpusSentence],
                 owners: list[tuple[str, int]], vectors: np.ndarray,
                 done: set[tuple[str, int]]) -> list[tuple[str, int, str, str, float]]:
    """The queue: per touchpoint, the unlabelled sentences the model is least sure of,
    interleaved so every touchpoint comes up early."""
    if not len(vectors):
        return []
    probabilities = model.probabilities(vectors)
    per_touchpoint = model.uncertain(vectors, QUEUE_PER_TOUCHPOINT + len(done))
    columns = []
    for t, key in enumerate(model.keys):
        rows = [i for i in per_touchpoint[key] if owners[i] not in done]
        columns.append([(*owners[i], sentences[i].text, key, round(float(probabilities[i, t]), 4))
                        for i in rows[:QUEUE_PER_TOUCHPOINT]])
    return [item for level in zip_longest(*columns) for item in level if item is not None]
