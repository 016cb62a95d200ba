"""A touchpoint classifier learned from the user's own catalogue, corpus and corrections.

Cue matches and the catalogue's example sentences are weak labels; one logistic regression
per touchpoint is fitted on the sentence embeddings the tagger computes anyway, then
self-trained: sentences of the corpus it is sure of join the next round. Human labels
(corrections, the review queue) outweigh everything else. Multi-label: a sentence gets
every touchpoint whose probability passes the threshold, and none when no touchpoint does.

Pure numpy / scipy: no database, no encoder. ``nlp.touchpoint_fit`` gathers the
data from the store; the tagger calls ``predict``.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

FORMAT = "otklik-touchpoints/1"
# Chosen on the dev splits of the shared complaint sets (bench/touchpoint_eval.py):
THRESHOLD = 0.3
WEIGHTS = {"example": 4.0, "human": 8.0, "cue": 1.0, "pseudo": 0.5, "background": 0.05}
SELF_TRAINING_ROUNDS = 2
PSEUDO_CONFIDENCE = 0.9
MAX_PSEUDO_PER_TOUCHPOINT = 300
L2 = 1e-5  # on the weights; each touchpoint's loss is a weighted mean
MAX_ITERATIONS = 300
EVIDENCE_ANCHORS = 2


@dataclass(frozen=True)
class LabelledSentence:
    """A sentence with the touchpoints it names (empty: it names none) and where the labels
    come from: ``example`` (the catalogue), ``cue`` (a cue word matched), ``human``."""

    text: str
    vector: np.ndarray
    touchpoints: frozenset[str]
    source: str


@dataclass(frozen=True)
class LearnedHit:
    key: str
    probability: float
    nearest: tuple[str, ...]  # the catalogue example or cue sentences nearest the sentence


@dataclass
class TouchpointModel:
    """One-vs-rest logistic regression over unit sentence vectors, with its anchors.

    ``anchors`` are the labelled sentences (catalogue examples, cue and human-labelled
    sentences) kept to show, for each hit, the sentences it resembles most.
    """

    keys: list[str]
    weights: np.ndarray  # (T, D)
    bias: np.ndarray  # (T,)
    threshold: float
    fingerprint: str  # of what it was fitted on: catalogue, corrections, embedding model
    anchor_texts: list[str] = field(default_factory=list)
    anchor_keys: list[str] = field(default_factory=list)
    anchor_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    stats: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short id of this fit, written into every tag it makes."""
        return "tp-" + self.fingerprint[:10]

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """``(N, T)`` probability that each sentence names each touchpoint."""
        if len(vectors) == 0:
            return np.zeros((0, len(self.keys)), dtype=np.float32)
        logits = np.asarray(vectors, dtype=np.float32) @ self.weights.T + self.bias
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def predict(self, vectors: np.ndarray) -> list[list[LearnedHit]]:
        """The touchpoints of each sentence, likeliest first, with their evidence."""
        probs = self.probabilities(vectors)
        out = []
        for vector, row in zip(vectors, probs, strict=True):
            chosen = [i for i in np.argsort(-row, kind="stable") if row[i] >= self.threshold]
            out.append([LearnedHit(self.keys[i], round(float(row[i]), 4),
                                   self.nearest_anchors(vector, self.keys[i]))
                        for i in chosen])
        return out

    def nearest_anchors(self, vector: np.ndarray, key: str) -> tuple[str, ...]:
        """The labelled sentences of ``key`` most similar to ``vector``."""
        rows = [i for i, k in enumerate(self.anchor_keys) if k == key]
        if not rows:
            return ()
        similarity = self.anchor_vectors[rows] @ vector
        best = np.argsort(-similarity, kind="stable")[:EVIDENCE_ANCHORS]
        return tuple(self.anchor_texts[rows[i]] for i in best)

    def uncertain(self, vectors: np.ndarray, per_touchpoint: int) -> dict[str, list[int]]:
        """For each touchpoint, the rows whose probability is nearest the threshold (the
        sentences a person's label teaches the model most), most uncertain first."""
        probs = self.probabilities(vectors)
        out = {}
        for t, key in enumerate(self.keys):
            distance = np.abs(probs[:, t] - self.threshold)
            out[key] = [int(i) for i in np.argsort(distance, kind="stable")[:per_touchpoint]]
        return out

    # ------------------------------------------------------------------ persistence

    def to_bytes(self) -> bytes:
        """The model as one ``.npz`` blob (for the store)."""
        buffer = io.BytesIO()
        meta = {"format": FORMAT, "keys": self.keys, "threshold": self.threshold,
                "fingerprint": self.fingerprint, "anchor_texts": self.anchor_texts,
                "anchor_keys": self.anchor_keys, "stats": self.stats}
        np.savez_compressed(buffer, weights=self.weights, bias=self.bias,
                            anchors=self.anchor_vectors,
                            meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(),
                                               dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TouchpointModel:
        """Read a blob of ``to_bytes``; ``ValueError`` when it is not one."""
        try:
            with np.load(io.BytesIO(blob), allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                arrays = {name: data[name] for name in ("weights", "bias", "anchors")}
        except (OSError, KeyError, ValueError) as error:
            raise ValueError(f"not a stored touchpoint model: {error}") from None
        if meta.get("format") != FORMAT:
            raise ValueError(f"touchpoint model format {meta.get('format')!r} is not {FORMAT}")
        return cls(meta["keys"], arrays["weights"], arrays["bias"], meta["threshold"],
                   meta["fingerprint"], meta["anchor_texts"], meta["anchor_keys"],
                   arrays["anchors"], meta.get("stats", {}))


def fingerprint(*parts: object) -> str:
    """sha256 of the JSON of ``parts``: what a fit depends on."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fit(keys: Sequence[str], labelled: Sequence[LabelledSentence], corpus: np.ndarray,
        fitted_on: str, *, threshold: float = THRESHOLD,
        weights: Mapping[str, float] = WEIGHTS, rounds: int = SELF_TRAINING_ROUNDS,
        ) -> TouchpointModel:
    """Fit the classifier on ``labelled`` sentences and the unlabelled ``corpus`` vectors.

    Every corpus sentence is a weak negative of every touchpoint (most sentences name
    none); each round of self-training makes the corpus sentences it is surest of weak
    positives of that touchpoint. A touchpoint with no labelled sentence never fires.
    """
    keys = list(keys)
    dim = corpus.shape[1] if len(corpus) else (labelled[0].vector.shape[0] if labelled else 0)
    corpus = np.asarray(corpus, dtype=np.float32).reshape(-1, dim)
    x = np.vstack([np.vstack([s.vector for s in labelled]) if labelled
                   else np.zeros((0, dim), np.float32), corpus]).astype(np.float64)
    targets = np.zeros((len(x), len(keys)))
    for row, sentence in enumerate(labelled):
        for t, key in enumerate(keys):
            targets[row, t] = key in sentence.touchpoints
    row_weights = np.concatenate([[weights[s.source] for s in labelled],
                                  np.full(len(corpus), weights["background"])])
    sample_weights = np.repeat(row_weights[:, None], len(keys), axis=1)
    taught = targets[:len(labelled)].any(axis=0)
    model_w, model_b = _logistic(x, targets, sample_weights)
    pseudo = np.zeros((len(corpus), len(keys)), dtype=bool)
    for _ in range(rounds if len(corpus) else 0):
        probabilities = _sigmoid(corpus @ model_w.T + model_b)
        pseudo = _surest(probabilities) & taught
        targets[len(labelled):] = pseudo
        sample_weights[len(labelled):] = np.where(pseudo, weights["pseudo"],
                                                  weights["background"])
        model_w, model_b = _logistic(x, targets, sample_weights, (model_w, model_b))
    model_b = np.where(taught, model_b, -30.0).astype(np.float32)
    anchor_pairs = [(s.text, key, s.vector) for s in labelled for key in sorted(s.touchpoints)]
    stats = {"labelled": {key: int(targets[:len(labelled), t].sum())
                          for t, key in enumerate(keys)},
             "corpus": int(len(corpus)),
             "pseudo": {key: int(pseudo[:, t].sum()) for t, key in enumerate(keys)}}
    return TouchpointModel(
        keys, model_w, model_b, threshold, fitted_on,
        [text for text, _, _ in anchor_pairs], [key for _, key, _ in anchor_pairs],
        np.vstack([v for _, _, v in anchor_pairs]).astype(np.float32) if anchor_pairs
        else np.zeros((0, dim), np.float32), stats)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _logistic(x: np.ndarray, targets: np.ndarray, sample_weights: np.ndarray,
              start: tuple[np.ndarray, np.ndarray] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """One weighted logistic regression per column of ``targets``, all fitted together by
    L-BFGS (each column's loss is its weighted mean, plus ``L2`` on the weights)."""
    n, dim = x.shape
    columns = targets.shape[1]
    totals = np.maximum(sample_weights.sum(axis=0), 1e-9)

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: dim * columns].reshape(dim, columns)
        b = theta[dim * columns:]
        z = x @ w + b
        losses = np.logaddexp(0.0, z) - targets * z
        loss = (float((sample_weights * losses).sum(axis=0) @ (1 / totals))
                + 0.5 * L2 * float((w ** 2).sum()))
        residual = sample_weights * (_sigmoid(z) - targets) / totals
        gradient = np.concatenate([(x.T @ residual + L2 * w).ravel(), residual.sum(axis=0)])
        return loss, gradient

    theta0 = np.zeros(dim * columns + columns)
    if start is not None:
        theta0 = np.concatenate([start[0].T.ravel(), start[1]]).astype(np.float64)
    result = minimize(loss_and_gradient, theta0, jac=True, method="L-BFGS-B",
                      options={"maxiter": MAX_ITERATIONS})
    w = result.x[: dim * columns].reshape(dim, columns)
    return w.T.astype(np.float32), result.x[dim * columns:].astype(np.float32)


def _surest(probabilities: np.ndarray) -> np.ndarray:
    """Per touchpoint, the rows past ``PSEUDO_CONFIDENCE``, at most the likeliest few hundred."""
    chosen = np.zeros(probabilities.shape, dtype=bool)
    for t in range(probabilities.shape[1]):
        rows = np.flatnonzero(probabilities[:, t] >= PSEUDO_CONFIDENCE)
        rows = rows[np.argsort(-probabilities[rows, t], kind="stable")][:MAX_PSEUDO_PER_TOUCHPOINT]
        chosen[rows, t] = True
    return chosen
