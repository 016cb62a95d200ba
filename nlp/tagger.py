"""The batch tagger: reads mentions that need tags, writes language, sentiment, entities,
touchpoints and intents with their evidence, and keeps embeddings of complaints.

Resumable by design: each batch is written in one transaction, and only mentions without
tags from the current models (or whose text changed) are read, shortest first. Several
taggers share the work: each claims its batches (``store.claims``), so none tags a mention
another holds, and the batch of one that died is taken up again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlite_utils import Database

from config.catalogue import Catalogue, load_catalogue
from nlp.analysis import TextAnalysis, add_learned_touchpoints, analyze_texts, units_of
from nlp.language import MODEL_NAME as LANGUAGE_MODEL
from nlp.language import detect_language
from nlp.sentence_reader import SeparatePasses, SharedPass
from nlp.sentiment_adapter import SentimentAdapter
from nlp.stance import hit_sentiments, mention_sentiment
from nlp.touchpoint_model import TouchpointModel
from store import claims
from store.claims import Worker
from store.db import retry_transient
from store.embeddings import write_embeddings
from store.tags import HitRecord, Tag, write_mention_tags
from store.tags import count_pending as count_untagged

logger = logging.getLogger(__name__)
TAGGER_VERSION = "2"
EMBEDDING_MODEL = "multilingual-e5-small"
LEASE_SECONDS = 120  # a claimed batch is free again this long after its worker stops renewing


class ModelUnavailable(ValueError):
    """A model the tagger needs is missing or broken; nothing was tagged."""


@dataclass
class Tagger:
    """The models a tagging run uses; each can be swapped (tests pass light ones).

    ``reader`` gives each sentence its sentiment and vector (``nlp.sentence_reader``; by
    default ``sentiment`` and ``encoder`` run one after the other); ``touchpoints`` is the
    learned touchpoint model of the store being tagged (``nlp.touchpoint_learning.prepare``
    sets it; without it only cue words find touchpoints); ``adapter`` the store's correction
    of the sentiment model (``nlp.sentiment_learning.prepare_sentiment``).
    """

    catalogue: Catalogue
    sentiment: Callable[[list[str]], list]  # texts → objects with label, score, scores
    sentiment_version: str
    touchpoints: TouchpointModel | None = None
    encoder: object | None = None  # Encoder for sentence vectors, or None
    reader: object | None = None
    adapter: SentimentAdapter | None = None  # the store's, from people's sentiment labels

    def __post_init__(self):
        if self.reader is None:
            self.reader = SeparatePasses(self.sentiment, self.encoder)

    @classmethod
    def default(cls, catalogue_path=None) -> Tagger:
        """The shipped models: fine-tuned sentiment and the e5 encoder, sharing their lower
        layers in one pass when the sentiment model was trained that way."""
        from nlp import sentiment
        from nlp.embeddings import Encoder

        catalogue = load_catalogue(catalogue_path) if catalogue_path else load_catalogue()
        try:
            model = sentiment.load_model()  # fail here, clearly, not on every row
        except (OSError, ValueError) as error:
            raise ModelUnavailable(
                f"the sentiment model cannot be loaded ({error}); install the shipped one "
                "(models/sentiment) or train it: python -m models.train_sentiment "
                "--data DIR --out models/sentiment") from None
        if model.shared_layers:
            encoder = Encoder(prefix="", precision=model.precision)
            reader = SharedPass(model, encoder)
        else:
            encoder = Encoder()
            reader = SeparatePasses(sentiment.predict, encoder)
        return cls(catalogue, sentiment.predict, model.version, None, encoder, reader)

    @property
    def embedding_version(self) -> str:
        """Names the space of the sentence vectors (a touchpoint model fits one space)."""
        shared = getattr(self.reader, "shared", 0)
        return f"{EMBEDDING_MODEL}-shared{shared}" if shared else EMBEDDING_MODEL

    @property
    def version(self) -> str:
        """Changes whenever a model or the catalogue does: such rows are tagged again."""
        touchpoints = self.touchpoints.version if self.touchpoints is not None else "cues"
        sentiment = self.sentiment_version
        if self.adapter is not None:
            sentiment += f"+{self.adapter.version}"
        return f"t{TAGGER_VERSION}-{sentiment}-{touchpoints}-{self.catalogue.fingerprint}"

    def read_sentences(self, texts: list[str]) -> tuple[list, np.ndarray | None]:
        """Sentiment and vector (None without an encoder) of each text."""
        return self.reader.read(texts)

    def sentence_vectors(self, texts: list[str]) -> np.ndarray | None:
        """The vector of each text, without its sentiment."""
        return self.reader.vectors(texts)

    def read(self, texts: Sequence[str], languages: Sequence[str]) -> Reading:
        """Analyse posts and read each sentence (sentiment and vector), and a post of
        several sentences whole too (see ``nlp.stance.mention_sentiment``); the models' own
        reading, before the store's adapter and learned touchpoints."""
        analyses = analyze_texts(list(zip(texts, languages, strict=True)), self.catalogue)
        units = [[unit.text for unit in units_of(analysis)] for analysis in analyses]
        predictions, vectors = self.read_sentences([text for group in units for text in group])
        several = [i for i, group in enumerate(units) if len(group) > 1]
        wholes = dict(zip(several, self.sentiment([analyses[i].text for i in several])
                          if several else [], strict=True))
        return Reading(analyses, units, predictions, vectors, wholes)

    def tag_batch(self, rows: Sequence[tuple[str, str, str]]) -> list[TaggedMention]:
        """Tag ``(mention_id, text, content_hash)`` rows (pure: no database)."""
        languages = [detect_language(text) for _, text, _ in rows]
        reading = self.read([text for _, text, _ in rows],
                            [guess.language for guess in languages])
        analyses, predictions, wholes = reading.analyses, reading.predictions, reading.wholes
        if self.adapter is not None and reading.vectors is not None:
            predictions, wholes = self._adapted(reading)
        if self.touchpoints is not None and reading.vectors is not None:
            labels = {t.id: t.name for t in self.catalogue.touchpoints}
            analyses = add_learned_touchpoints(analyses, reading.vectors, self.touchpoints,
                                               labels)
        tagged = []
        for i, ((mention, _, content_hash), guess, analysis) in enumerate(zip(
                rows, languages, analyses, strict=True)):
            vector = reading.post_vector(i) if reading.vectors is not None else None
            tagged.append(self._tagged(mention, content_hash, guess, analysis,
                                       predictions[reading.span(i)], wholes.get(i), vector))
        return tagged

    def _adapted(self, reading: Reading) -> tuple[list, dict]:
        """Sentences and whole posts as the store's adapter reads them (a whole post with
        the post's vector)."""
        posts = sorted(reading.wholes)
        post_vectors = np.array([reading.post_vector(i) for i in posts]).reshape(
            len(posts), reading.vectors.shape[1])
        adapted_wholes = self.adapter.adjust([reading.wholes[i] for i in posts], post_vectors)
        return (self.adapter.adjust(reading.predictions, reading.vectors),
                dict(zip(posts, adapted_wholes, strict=True)))

    def _tagged(self, mention, content_hash, guess, analysis: TextAnalysis, per_sentence,
                whole, vector):
        overall = mention_sentiment(analysis, per_sentence, whole)
        if self.adapter is not None:
            overall.evidence["adapter"] = {"version": self.adapter.version,
                                           "labels": self.adapter.labels}
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
        return TaggedMention(mention, analysis.text, overall.label, tags, hits, analysis.cut,
                             vector)


@dataclass(frozen=True)
class Reading:
    """The models' reading of a batch of posts (``Tagger.read``)."""

    analyses: list[TextAnalysis]
    units: list[list[str]]  # each post's sentences (a post too long for the pipeline: cut)
    predictions: list  # each sentence's sentiment, the posts' sentences one after another
    vectors: np.ndarray | None  # each sentence's vector, in the same order; None: no encoder
    wholes: dict[int, object]  # a post of several sentences (its index) → its whole text's

    def span(self, post: int) -> slice:
        """Where a post's sentences are in ``predictions`` and ``vectors``."""
        start = sum(len(group) for group in self.units[:post])
        return slice(start, start + len(self.units[post]))

    def post_vector(self, post: int) -> np.ndarray:
        """A post's vector (see ``post_vector``)."""
        return post_vector(self.vectors[self.span(post)], self.units[post])


def post_vector(vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """A post's vector from its sentences': their mean weighted by length, unit length."""
    weights = np.array([max(1, len(text)) for text in texts], dtype=np.float32)
    mean = (vectors * weights[:, None]).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32)


@dataclass
class TaggedMention:
    mention_id: str
    text: str
    sentiment: str
    tags: list[Tag]
    hits: list[HitRecord]
    cut: bool = False  # too long for the pipeline: only its start was tagged
    vector: np.ndarray | None = None  # the post's sentence vector, when the tagger has one


def tag_pending(db: Database, tagger: Tagger, batch_size: int = 64,
                progress: Callable[[int], None] | None = None, *, worker: Worker | None = None,
                lease_seconds: float = LEASE_SECONDS) -> dict:
    """Tag every mention that needs it, batch by batch; returns counts (``cut``: mentions
    too long for the pipeline, of which only the start was tagged).

    Each batch is claimed for ``worker`` (default: this process) first, so taggers running
    side by side share the work. A mention that cannot be tagged is logged, counted and
    marked with an error tag of this version, so the run goes on and does not retry it until
    the models change.
    """
    worker = worker or Worker.this_process()
    counts = {"tagged": 0, "failed": 0, "cut": 0, "embedded": 0}
    with claims.keep_leased(db, worker, lease_seconds):
        try:
            while rows := claims.claim_batch(db, worker, batch_size, lease_seconds,
                                             tag="sentiment", version=tagger.version):
                results, failed = _tag_rows(tagger, rows)
                written = _write_batch(db, tagger, worker, results, counts)
                counts["failed"] += sum(1 for r in written if r.mention_id in failed)
                counts["tagged"] += sum(1 for r in written if r.sentiment is not None)
                counts["cut"] += sum(1 for r in written if r.cut)
                if progress:
                    progress(len(rows))
        finally:  # a run that stops early frees its batch for the others at once
            _release(db, worker)
    return counts


def _tag_rows(tagger: Tagger, rows) -> tuple[list[TaggedMention], set[str]]:
    """The batch's results and the ids of the mentions that failed (marked, see above)."""
    try:
        return tagger.tag_batch(rows), set()
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
        return results, {row[0] for row, _ in failures}


def _write_batch(db: Database, tagger: Tagger, worker: Worker, results: list[TaggedMention],
                 counts: dict) -> list[TaggedMention]:
    """Write the tags of the mentions ``worker`` still holds and drop its claims, in one
    transaction; returns what was written. A mention whose claim ran out and went to another
    worker (or was erased) is left to it, never overwritten."""
    def write() -> tuple[list[TaggedMention], int]:
        with db.atomic():
            held = claims.held_by(db, worker)
            written = [result for result in results if result.mention_id in held]
            for result in written:
                write_mention_tags(db, result.mention_id, result.tags, result.hits,
                                   tagger.version)
            embedded = _embed_complaints(db, tagger, written)
            claims.release(db, worker)
        return written, embedded

    written, embedded = retry_transient(write)  # a deadlock lost to another writer passes
    counts["embedded"] += embedded
    if len(written) < len(results):
        logger.warning("%s lost %d claimed mentions to another tagger before writing them",
                       worker.id, len(results) - len(written))
    return written


def _release(db: Database, worker: Worker) -> None:
    try:
        claims.release(db, worker)
    except Exception as error:  # noqa: BLE001 (the claims' lease runs out by itself)
        logger.warning("cannot drop the claims of %s: %s", worker.id, error)


def _embed_complaints(db: Database, tagger: Tagger, results: list[TaggedMention]) -> int:
    """Keep the vectors of negative mentions: complaint clustering reads them."""
    negative = [r for r in results if r.sentiment == "negative" and r.vector is not None]
    if not negative:
        return 0
    return write_embeddings(db, EMBEDDING_MODEL,
                            [(r.mention_id, r.vector) for r in negative])


def _failed(row, version: str, error: Exception) -> TaggedMention:
    mention, text, content_hash = row
    tag = Tag(mention, "sentiment", None, None, "sentiment", version, content_hash,
              {"error": str(error)[:300]})
    return TaggedMention(mention, text, None, [tag], [])


def count_pending(db: Database, tagger: Tagger) -> int:
    """How many mentions the tagger would tag now (those other taggers hold included)."""
    return count_untagged(db, "sentiment", tagger.version)
