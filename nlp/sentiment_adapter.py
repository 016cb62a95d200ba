"""A store's own correction of the sentiment model, learned from people's sentiment labels.

The shipped model speaks for many domains; a store's posts are one. When people correct
sentiment on the Mentions page, a small multinomial logistic regression is fitted over the
model's log-probabilities and the text's sentence vector:

    logits = A · log p + V · v + b

It starts as the identity (``A = I``, ``V = 0``, ``b = 0``: the model's own probabilities),
and the fit is pulled back toward it (L2 on ``A - I``, ``V`` and ``b``). People correct
what the model got wrong, not what it got right, so labels alone would teach "the model is
always wrong"; a sample of the store's own posts, each standing for the model's own
probabilities (the anchors), keeps its answers wherever no label speaks.

Pure numpy / scipy: no database, no model. ``nlp.sentiment_learning`` gathers the labels and
keeps the store's adapter current; the tagger calls ``adjust``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from nlp.sentiment import LABELS, Sentiment, probabilities_of, sentiments_of

FORMAT = "otklik-sentiment-adapter/1"
# Chosen on the dev splits of the shared sentiment sets (bench/sentiment_adapter.py): the pull
# toward the identity of the log-probability map and bias, and of the vector map; how much the
# store's own unlabelled posts (the anchors) weigh against people's labels.
PULL = 10.0
VECTOR_PULL = 0.1
ANCHOR_WEIGHT = 1.0
MAX_ITERATIONS = 500
FLOOR = 1e-6  # probabilities are clipped here before their log is taken


@dataclass(frozen=True)
class LabelledText:
    """A text people labelled, as the model saw it: its probabilities (in ``LABELS`` order),
    its sentence vector and the right label."""

    probabilities: np.ndarray  # (3,)
    vector: np.ndarray  # (D,)
    label: str


@dataclass
class SentimentAdapter:
    """The fitted map from the model's log-probabilities and a text's vector to sentiment."""

    log_map: np.ndarray  # (3, 3), A
    vector_map: np.ndarray  # (3, D), V
    bias: np.ndarray  # (3,), b
    fingerprint: str  # of what it was fitted on: the labels, the model, the vectors' space
    labels: int = 0  # how many labelled texts taught it

    @property
    def version(self) -> str:
        """Short id of this fit, written into every tag it shapes."""
        return "sa-" + self.fingerprint[:10]

    def adjust_probabilities(self, probabilities: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """``(N, 3)`` probabilities after the store's correction."""
        if len(probabilities) == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        logits = (_log(probabilities) @ self.log_map.T + vectors @ self.vector_map.T
                  + self.bias)
        return _softmax(logits).astype(np.float32)

    def adjust(self, predictions: Sequence[Sentiment], vectors: np.ndarray) -> list[Sentiment]:
        """The model's sentiments of texts with these vectors, as this store reads them."""
        if not predictions:
            return []
        return sentiments_of(self.adjust_probabilities(probabilities_of(predictions), vectors))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        meta = {"format": FORMAT, "fingerprint": self.fingerprint, "labels": self.labels}
        np.savez_compressed(buffer, log_map=self.log_map, vector_map=self.vector_map,
                            bias=self.bias, meta=np.array(json.dumps(meta)))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> SentimentAdapter:
        with np.load(io.BytesIO(blob), allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"not a sentiment adapter of this version: {meta.get('format')}")
            return cls(saved["log_map"], saved["vector_map"], saved["bias"],
                       meta["fingerprint"], meta["labels"])


def fit(examples: Sequence[LabelledText], fitted_on: str, pull: float = PULL,
        vector_pull: float = VECTOR_PULL, anchors: tuple[np.ndarray, np.ndarray] | None = None,
        anchor_weight: float = ANCHOR_WEIGHT) -> SentimentAdapter:
    """Fit the adapter on people's labels (at least one; each weighs 1), starting from and
    pulled toward the identity. ``anchors`` (probabilities and vectors of the store's own
    posts, unlabelled) keep the model's answers where no label speaks: each stands for the
    model's own probabilities and weighs ``anchor_weight`` labels."""
    if not examples:
        raise ValueError("a sentiment adapter needs at least one labelled text")
    k = len(LABELS)
    probabilities = np.array([e.probabilities for e in examples], dtype=np.float64)
    vectors = np.array([e.vector for e in examples], dtype=np.float64)
    targets = np.eye(k)[[LABELS.index(e.label) for e in examples]]
    weights = np.ones(len(examples))
    if anchors is not None and len(anchors[0]):
        probabilities = np.vstack([probabilities, anchors[0]])
        vectors = np.vstack([vectors, anchors[1]])
        targets = np.vstack([targets, np.clip(anchors[0], FLOOR, 1.0)])
        weights = np.concatenate([weights, np.full(len(anchors[0]), anchor_weight)])
    log_p = _log(probabilities)
    dim = vectors.shape[1]
    identity = np.eye(k)

    def unpack(theta):
        a = theta[:k * k].reshape(k, k)
        v = theta[k * k:k * k + k * dim].reshape(k, dim)
        return a, v, theta[k * k + k * dim:]

    def loss_and_gradient(theta):
        a, v, b = unpack(theta)
        predicted = _softmax(log_p @ a.T + vectors @ v.T + b)
        loss = -np.sum(weights[:, None] * targets * np.log(np.clip(predicted, 1e-12, None)))
        loss += pull * (np.sum((a - identity) ** 2) + np.sum(b ** 2)) + vector_pull * np.sum(v ** 2)
        error = weights[:, None] * (predicted - targets)
        grad_a = error.T @ log_p + 2 * pull * (a - identity)
        grad_v = error.T @ vectors + 2 * vector_pull * v
        grad_b = error.sum(axis=0) + 2 * pull * b
        return loss, np.concatenate([grad_a.ravel(), grad_v.ravel(), grad_b])

    start = np.concatenate([identity.ravel(), np.zeros(k * dim), np.zeros(k)])
    result = minimize(loss_and_gradient, start, jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITERATIONS})
    a, v, b = unpack(result.x)
    return SentimentAdapter(a.astype(np.float32), v.astype(np.float32), b.astype(np.float32),
                            fitted_on, len(examples))


def _log(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probabilities, FLOOR, 1.0))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
