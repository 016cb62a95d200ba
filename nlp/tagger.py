"""The batch tagger: reads mentions that need tags, writes language, sentiment, entities,
touchpoints and intents with their evidence, and keeps embeddings of complaints.

Resumable by design: each batch is written in one transaction, and only mentions without
tags from the current models (or whose text changed) are read, shortest first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from sqlite_utils import Database

from config.catalogue import Catalogue, load_catalogue
from nlp.analysis import TextAnalysis, analyze_texts
from nlp.language import MODEL_NAME as LANGUAGE_MODEL
from nlp.language import detect_language
from nlp.stance import hit_sentiments, mention_sentiment
from store.embeddings import write_embeddings
from store.tags import HitRecord, Tag, pending_mentions, write_mention_tags

logger = logging.getLogger(__name__)
TAGGER_VERSION = "1"
EMBEDDING_MODEL = "multilingual-e5-small"


class ModelUnavailable(ValueError):
    """A model the tagger needs is missing or broken; nothing was tagged."""


@dataclass
class Tagger:
    """The models a tagging run uses; each can be swapped (tests pass light ones)."""

    catalogue: Catalogue
    sentiment: Callable[[list[str]], list]  # texts → objects with label, score, scores
    sentiment_version: str
    semantic: object | None = None  # SemanticTouchpoints, or None for cue matching only
    encoder: object | None = None  # Encoder for complaint embeddings, or None

    @classmethod
    def default(cls, catalogue_path=None) -> Tagger:
        """The shipped models: fine-tuned sentiment, e5 touchpoint match and embeddings."""
        from nlp import sentiment
        from nlp.embeddings import Encoder
        from nlp.touchpoints import SemanticTouchpoints

        catalogue = load_catalogue(catalogue_path) if catalogue_path else load_catalogue()
        try:
            sentiment.load_model()  # fail here, clearly, not on every row
        except (OSError, ValueError) as error:
            raise ModelUnavailable(
                f"the sentiment model cannot be loaded ({error}); install the shipped one "
                "(models/sentiment) or train it: python -m models.train_sentiment "
                "--data DIR --out models/sentiment") from None
        encoder = Encoder()
        return cls(catalogue, sentiment.predict, sentiment.model_version(),
                   SemanticTouchpoints(catalogue, encoder), encoder)

    @cached_property
    def version(self) -> str:
        """Changes whenever a model or the catalogue does: such rows are tagged again."""
        semantic = "semantic" if self.semantic is not None else "cues"
        return (f"t{TAGGER_VERSION}-{self.sentiment_version}-{semantic}-"
                f"{self.catalogue.fingerprint}")

    def tag_batch(self, rows: Sequence[tuple[str, str, str]]) -> list[TaggedMention]:
        """Tag ``(mention_id, text, content_hash)`` rows (pure: no database)."""
        languages = [detect_language(text) for _, text, _ in rows]
        analyses = analyze_texts([(text, guess.language) for (_, text, _), guess
                                  in zip(rows, languages, strict=True)],
                                 self.catalogue, self.semantic)
        sentences = [[s.text for s in analysis.sentences] or [analysis.text]
                     for analysis in analyses]
        flat = [text for group in sentences for text in group]
        predictions = iter(self.sentiment(flat) if flat else [])
        tagged = []
        for (mention, _, content_hash), guess, analysis, group in zip(
                rows, languages, analyses, sentences, strict=True):
            per_sentence = [next(predictions) for _ in group]
            tagged.append(self._tagged(mention, content_hash, guess, analysis, per_sentence))
        return tagged

    def _tagged(self, mention, content_hash, guess, analysis: TextAnalysis, per_sentence):
        overall = mention_sentiment(analysis, per_sentence)
        tags = [
            Tag(mention, "language", guess.language, guess.confidence, LANGUAGE_MODEL,
                self.version, content_hash, {"why": guess.evidence}),
            Tag(mention, "sentiment", overall.label, overall.score, "sentiment",
                self.version, content_hash, overall.evidence),
        ]
        sentiments = hit_sentiments(analysis, per_sentence)
        hits = [HitRecord(hit.kind, hit.key, hit.label, sentiments.get(i), hit.confidence,
                          hit.start, hit.end, hit.evidence, hit.method, hit.sentence,
                          hit.extra)
                for i, hit in enumerate(analysis.hits)]
        if analysis.cut:
            logger.info("mention %s: only its first %d characters were analysed", mention,
                        len(analysis.text))
        return TaggedMention(mention, analysis.text, overall.label, tags, hits, analysis.cut)


@dataclass
class TaggedMention:
    mention_id: str
    text: str
    sentiment: str
    tags: list[Tag]
    hits: list[HitRecord]
    cut: bool = False  # too long for the pipeline: only its start was tagged


def tag_pending(db: Database, tagger: Tagger, batch_size: int = 64,
                progress: Callable[[int], None] | None = None) -> dict:
    """Tag every mention that needs it, batch by batch; returns counts (``cut``: mentions
    too long for the pipeline, of which only the start was tagged).

    A mention that cannot be tagged is logged, counted and marked with an error tag of this
    version, so the run goes on and does not retry it until the models change.
    """
    counts = {"tagged": 0, "failed": 0, "cut": 0, "embedded": 0}
    while rows := pending_mentions(db, "sentiment", tagger.version, batch_size):
        try:
            results = tagger.tag_batch(rows)
        except Exception:  # one bad text must not stop the run: find it row by row
            results, failures = [], []
            for row in rows:
                try:
                    results += tagger.tag_batch([row])
                except Exception as error:
                    failures.append((row, error))
            if len(failures) == len(rows) > 1:
                raise ModelUnavailable(
                    f"every mention of a batch failed: {failures[0][1]}") from failures[0][1]
            for row, error in failures:
                logger.warning("cannot tag mention %s: %s", row[0], error)
                results.append(_failed(row, tagger.version, error))
                counts["failed"] += 1
        with db.atomic():
            for result in results:
                write_mention_tags(db, result.mention_id, result.tags, result.hits,
                                   tagger.version)
            counts["embedded"] += _embed_complaints(db, tagger, results)
        counts["tagged"] += len(results) - sum(1 for r in results if r.sentiment is None)
        counts["cut"] += sum(1 for r in results if r.cut)
        if progress:
            progress(len(rows))
    return counts


def _embed_complaints(db: Database, tagger: Tagger, results: list[TaggedMention]) -> int:
    """Keep the embeddings of negative mentions: complaint clustering reads them."""
    negative = [r for r in results if r.sentiment == "negative"]
    if tagger.encoder is None or not negative:
        return 0
    vectors = tagger.encoder.encode([r.text for r in negative])
    return write_embeddings(db, EMBEDDING_MODEL,
                            zip([r.mention_id for r in negative], np.asarray(vectors),
                                strict=True))


def _failed(row, version: str, error: Exception) -> TaggedMention:
    mention, text, content_hash = row
    tag = Tag(mention, "sentiment", None, None, "sentiment", version, content_hash,
              {"error": str(error)[:300]})
    return TaggedMention(mention, text, None, [tag], [])


def count_pending(db: Database, tagger: Tagger) -> int:
    """How many mentions the tagger would tag now."""
    return len(pending_mentions(db, "sentiment", tagger.version, limit=-1))
