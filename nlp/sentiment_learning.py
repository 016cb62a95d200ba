"""Keeping a store's sentiment adapter current: fit it on the sentiment labels people gave
on the Mentions page and a fixed sample of the store's own posts, refit when those labels
(or the models under it) change, drop it when no label is left."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from nlp.language import detect_language
from nlp.sentiment import probabilities_of
from nlp.sentiment_adapter import LabelledText, SentimentAdapter, fit
from nlp.touchpoint_model import fingerprint
from store import sentiment_adapters as stored
from store.touchpoint_models import corpus_sample

logger = logging.getLogger(__name__)
# the store's posts that keep the model's answers where no label speaks (as many as the
# anchors the adapter's settings were chosen with: bench/sentiment_adapter.py)
ANCHOR_SAMPLE = 100


@dataclass(frozen=True)
class AdapterReport:
    fitted: bool  # False: the stored adapter was current, or there is none to fit
    reason: str
    version: str  # "" without an adapter
    labels: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """What the command line says of a fit."""
        return (f"sentiment adapter {self.version} fitted on {self.labels} sentiment labels "
                f"by people in {self.seconds:.1f} s ({self.reason})")


def prepare_sentiment(db: Database, tagger, force: bool = False) -> AdapterReport:
    """Give ``tagger`` the store's sentiment adapter, fitting it first when people's sentiment
    labels changed since the last fit (or when ``force``)."""
    tagger.adapter = None
    if not tagger.reader.gives_vectors:
        return AdapterReport(False, "no sentence vectors: the model's sentiment as it is", "")
    labels = stored.sentiment_labels(db)
    if not labels:
        if stored.stored_adapter(db) is not None:
            stored.drop_adapter(db)
        return AdapterReport(False, "no sentiment labels by people", "")
    fit_on = fingerprint(tagger.sentiment_version, tagger.embedding_version,
                         [(label.mention_id, label.sentence, label.sentiment, label.text)
                          for label in labels])
    current = stored.stored_adapter(db)
    if current is not None and current.fingerprint == fit_on and not force:
        tagger.adapter = SentimentAdapter.from_bytes(current.blob)
        return AdapterReport(False, "current", tagger.adapter.version, current.labels)
    start = time.perf_counter()
    examples = labelled_texts(tagger, labels)
    if not examples:  # every label names a sentence the text no longer has
        stored.drop_adapter(db)
        return AdapterReport(False, "no sentiment labels by people", "")
    labelled = {label.mention_id for label in labels}
    adapter = fit(examples, fit_on, anchors=anchors(db, tagger, labelled))
    stored.save_adapter(db, fit_on, adapter.version, len(examples), adapter.to_bytes())
    tagger.adapter = adapter
    seconds = round(time.perf_counter() - start, 1)
    reason = "asked to" if force else ("no adapter yet" if current is None
                                       else "people's sentiment labels changed")
    logger.info("sentiment adapter %s fitted on %d labels in %.1f s (%s)", adapter.version,
                len(examples), seconds, reason)
    return AdapterReport(True, reason, adapter.version, len(examples), seconds)


def labelled_texts(tagger, labels: list[stored.SentimentLabel]) -> list[LabelledText]:
    """How the model reads what people labelled, as the tagger reads it."""
    probabilities, vectors, kept = readings(tagger, [(label.text, label.sentence)
                                                     for label in labels])
    return [LabelledText(probabilities[row], vectors[row], labels[i].sentiment)
            for row, i in enumerate(kept)]


def anchors(db: Database, tagger, labelled: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The model's probabilities and the vectors of a fixed sample of the store's posts that
    people did not label."""
    sample = [text for mention, text in corpus_sample(db, ANCHOR_SAMPLE + len(labelled))
              if mention not in labelled][:ANCHOR_SAMPLE]
    probabilities, vectors, _ = readings(tagger, [(text, None) for text in sample])
    return probabilities, vectors


def readings(tagger, items: list[tuple[str, int | None]]
             ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The model's probabilities and the vector of each ``(text, sentence)`` as the tagger
    reads it: a sentence (its index) with its own, a whole post of several sentences with
    its whole text's probabilities and the post's vector (a one-sentence post is its
    sentence); and which items were read (a sentence the text no longer has is not)."""
    texts = [text for text, _ in items]
    reading = tagger.read(texts, [detect_language(text).language for text in texts])
    read, read_vectors, kept = [], [], []
    for i, (_, sentence) in enumerate(items):
        span = reading.span(i)
        if sentence is None and i in reading.wholes:
            read.append(reading.wholes[i])
            read_vectors.append(reading.post_vector(i))
        elif span.start + (sentence or 0) < span.stop:
            read.append(reading.predictions[span.start + (sentence or 0)])
            read_vectors.append(reading.vectors[span.start + (sentence or 0)])
        else:
            continue
        kept.append(i)
    vectors = reading.vectors
    dim = vectors.shape[1] if vectors is not None and len(vectors) else 0
    return (probabilities_of(read),
            np.array(read_vectors, np.float32).reshape(len(read), dim), kept)
