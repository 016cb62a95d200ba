"""The swappable steps of complaint clustering: embed → reduce → cluster → check; the label
step is ``insights.phrases.ClassTfidfLabeler``, the merge into themes and the titles are in
``insights.themes``.

Each step is duck-typed, so any object with the same method can take its place (scikit-learn's
``PCA`` as a reducer, ``HDBSCAN`` as a clusterer, ``nlp.embeddings.Encoder`` as an embedder):

- embed:   ``encode(texts) -> ndarray (n, d)``
- reduce:  ``fit_transform(vectors) -> ndarray (n, k)``
- cluster: ``fit_predict(vectors) -> ndarray (n,)`` of ints, ``-1`` for noise
- check:   ``check(vectors, labels) -> labels``, the clusterer's labels kept or redrawn
- label:   ``label(texts, labels) -> {cluster: [(term, score), …]}``
- merge:   ``merge(centres, sizes) -> theme of each cluster``, ``-1`` for the "other" theme

Defaults are chosen by ``bench/clusters.py`` on the dev splits (see docs/clusters.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

log = logging.getLogger(__name__)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


# --------------------------------------------------------------------------- embed


class E5Embedder:
    """The base encoder (multilingual-e5-small), loaded on first use."""

    name = "multilingual-e5-small"

    def __init__(self, model_dir: Path | str | None = None) -> None:
        from nlp.embeddings import Encoder

        self.encoder = Encoder(model_dir)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.encode(list(texts))


class TfidfEmbedder:
    """Fallback: TF-IDF of character n-grams (within words), reduced by SVD to ``dims``.

    Works on ru / uk / en alike with no model, but knows no synonyms or translations, so the
    same complaint in two languages lands apart. ``corpus_bound``: the n-grams and the SVD are
    fitted on the texts of each call, so vectors of two calls (and centres built from them)
    are not comparable, nor even of the same width.
    """

    name = "tfidf-char"
    corpus_bound = True

    def __init__(self, ngram_range: tuple[int, int] = (3, 5), dims: int = 128,
                 max_features: int = 200_000, random_state: int = 0) -> None:
        self.ngram_range = ngram_range
        self.dims = dims
        self.max_features = max_features
        self.random_state = random_state

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            from sklearn.decomposition import TruncatedSVD
            from sklearn.feature_extraction.text import TfidfVectorizer
        except ImportError as error:
            raise ImportError("the TF-IDF fallback needs scikit-learn: "
                              "pip install scikit-learn") from error
        texts = [t or "" for t in texts]
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                 sublinear_tf=True, max_features=self.max_features,
                                 lowercase=True).fit_transform(texts)
        dims = min(self.dims, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if dims >= 2:
            matrix = TruncatedSVD(dims, random_state=self.random_state).fit_transform(matrix)
        else:
            matrix = matrix.toarray()
        return unit_rows(matrix)


def default_embedder(model_dir: Path | str | None = None):
    """The e5 embedder, or the TF-IDF fallback with a logged notice when it cannot load."""
    try:
        return E5Embedder(model_dir)
    except Exception as error:  # any failure to load means: fall back
        log.warning("Complaint clusters: the base encoder is not available (%s: %s); falling "
                    "back to TF-IDF character n-grams, which do not match across languages. "
                    "Install the requirements and run `python -m models.base_encoder`.",
                    type(error).__name__, error)
        return TfidfEmbedder()


# --------------------------------------------------------------------------- reduce


class PCAReducer:
    """Centre, project on the top ``dims`` principal components (``None``: keep all), unit rows.

    Centring matters for e5: all its vectors share a common direction, so raw cosines crowd
    into 0.7–0.9; after centring they spread out and one distance threshold fits many corpora.
    """

    def __init__(self, dims: int | None = 100) -> None:
        self.dims = dims

    def fit_transform(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        centred = vectors - vectors.mean(axis=0, keepdims=True)
        if self.dims is None or self.dims >= min(centred.shape):
            return unit_rows(centred)
        wide = centred.astype(np.float64)
        covariance = (wide.T @ wide) / max(len(centred) - 1, 1)
        _, basis = np.linalg.eigh(covariance)  # ascending eigenvalues
        return unit_rows(centred @ basis[:, ::-1][:, : self.dims].astype(np.float32))


# --------------------------------------------------------------------------- cluster


class AverageLinkage:
    """Agglomerative clustering, average linkage on cosine distance, cut at ``threshold``.

    Needs no k: a group is a cluster when its members are on average within ``threshold`` of
    each other; groups under ``min_size`` are noise (-1). Scales by sampling: each round links
    at most ``max_sample`` still-unclustered points (O(sample²) memory), then gives every other
    point to the cluster it is closest to on average, if that is within ``threshold`` (the same
    rule the linkage used). Later rounds look for clusters among the leftovers, so a complaint
    too rare to show in the first sample still gets its cluster.
    ``min_size`` ``None``: 3, or one in a thousand of the linked sample if more.
    """

    def __init__(self, threshold: float = 0.75, min_size: int | None = None,
                 max_sample: int = 10_000, max_rounds: int = 3, random_state: int = 0) -> None:
        self.threshold = threshold
        self.min_size = min_size
        self.max_sample = max_sample
        self.max_rounds = max_rounds
        self.random_state = random_state

    def fit_predict(self, vectors: np.ndarray) -> np.ndarray:
        points = unit_rows(vectors)
        labels = np.full(len(points), -1, dtype=np.int64)
        rng = np.random.default_rng(self.random_state)
        sums: list[np.ndarray] = []
        counts: list[int] = []
        for _ in range(self.max_rounds):
            pool = np.flatnonzero(labels < 0)
            if len(pool) < 2:
                break
            whole = len(pool) <= self.max_sample
            sample = pool if whole else np.sort(rng.choice(pool, self.max_sample, replace=False))
            found = self._link(points[sample])
            if found.max(initial=-1) < 0:
                break
            for local in range(found.max() + 1):
                rows = sample[found == local]
                labels[rows] = len(sums)
                sums.append(points[rows].sum(axis=0))
                counts.append(len(rows))
            if whole:
                break
            rest = np.setdiff1d(pool, sample, assume_unique=True)
            _join_nearest(points, rest, sums, counts, labels, self.threshold)
        return labels

    def _link(self, points: np.ndarray) -> np.ndarray:
        """Labels 0..k-1 by cluster size (largest first), -1 for groups under the minimum."""
        n = len(points)
        min_size = self.min_size or max(3, round(n / 1000))
        if n < max(2, min_size):
            return np.full(n, -1, dtype=np.int64)
        tree = linkage(condensed_cosine(points), method="average")
        flat = fcluster(tree, t=self.threshold, criterion="distance")
        ids, sizes = np.unique(flat, return_counts=True)
        keep = [(-size, int(np.flatnonzero(flat == i)[0]), i)
                for i, size in zip(ids, sizes, strict=True) if size >= min_size]
        relabel = {cluster: rank for rank, (_, _, cluster) in enumerate(sorted(keep))}
        return np.array([relabel.get(c, -1) for c in flat], dtype=np.int64)


def absorb_noise(vectors: np.ndarray, labels: np.ndarray, limit: float = 0.85) -> np.ndarray:
    """``labels`` with each noise point (-1) given the cluster it is closest to on average, if
    within ``limit`` (mean cosine distance to the members, looser than the clusterer's cut):
    only posts really unlike every cluster stay noise."""
    points = unit_rows(vectors)
    labels = np.asarray(labels).copy()
    found = sorted(set(labels[labels >= 0].tolist()))
    if found:
        sums = [points[labels == c].sum(axis=0) for c in found]
        counts = [int((labels == c).sum()) for c in found]
        joined = np.full(len(labels), -1, dtype=np.int64)
        _join_nearest(points, np.flatnonzero(labels < 0), sums, counts, joined, limit)
        labels[joined >= 0] = np.asarray(found)[joined[joined >= 0]]
    return labels


def _join_nearest(points, rows, sums, counts, labels, limit: float) -> None:
    """Give each of ``rows`` the cluster it is closest to on average (``1 - x·mean`` for unit
    vectors: its mean cosine distance to the members), if within ``limit``."""
    means = np.vstack(sums) / np.asarray(counts, dtype=np.float32)[:, None]
    for start in range(0, len(rows), 20_000):
        chunk = rows[start : start + 20_000]
        similarity = points[chunk] @ means.T
        best = similarity.argmax(axis=1)
        close = 1.0 - similarity[np.arange(len(chunk)), best] <= limit
        labels[chunk[close]] = best[close]


def condensed_cosine(points: np.ndarray, block: int = 1024) -> np.ndarray:
    """Condensed (upper-triangle) cosine distances of unit rows, as scipy's ``pdist`` gives."""
    n = len(points)
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    pos = 0
    for start in range(0, n - 1, block):
        stop = min(start + block, n - 1)
        distances = 1.0 - points[start:stop] @ points[start:].T
        np.clip(distances, 0.0, 2.0, out=distances)
        for row in range(stop - start):
            width = n - start - row - 1
            out[pos : pos + width] = distances[row, row + 1 :]
            pos += width
    return out


# --------------------------------------------------------------------------- check


class SingleThemeCheck:
    """Keeps one tight theme whole when the clusterer fails on it.

    The reduce step centres the vectors on their own mean; when nearly every post shares one
    theme, what is left after centring is language and phrasing, and the clusterer calls most
    posts noise or splits them into small groups. This step looks at the embeddings as the
    embedder gave them. When the posts, outliers aside, are within ``max_spread`` of each
    other (mean pairwise cosine distance) and the clusterer left less than ``min_coverage``
    of them in a cluster, they are re-split there: average linkage into 2 to ``max_themes``
    groups of at least ``min_size``, the split kept only if its mean silhouette (cosine) is
    at least ``min_silhouette``, really different sub-themes; otherwise the theme is one
    cluster. Outliers (further from the centre than the median distance plus
    ``outlier_mads`` scaled median absolute deviations) are noise. Set for e5 vectors: one
    complaint in three languages ≈ 0.08 apart, unrelated posts ≈ 0.2; an arbitrary split of
    one theme scores a silhouette under 0.3, two real themes 0.45 and more.
    """

    def __init__(self, max_spread: float = 0.12, min_coverage: float = 0.6,
                 min_silhouette: float = 0.35, max_themes: int = 4, min_size: int = 3,
                 outlier_mads: float = 3.0, max_sample: int = 2000, random_state: int = 0) -> None:
        self.max_spread = max_spread
        self.min_coverage = min_coverage
        self.min_silhouette = min_silhouette
        self.max_themes = max_themes
        self.min_size = min_size
        self.outlier_mads = outlier_mads
        self.max_sample = max_sample
        self.random_state = random_state

    def check(self, vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
        points = unit_rows(vectors)
        labels = np.asarray(labels)
        core = self.core(points)
        if (core.sum() < max(3, 2 * self.min_size)
                or mean_pairwise_distance(points[core]) > self.max_spread
                or (labels[core] >= 0).mean() >= self.min_coverage):
            return labels
        out = np.full(len(points), -1, dtype=np.int64)
        out[core] = self.themes(points[core])
        return out

    def core(self, points: np.ndarray) -> np.ndarray:
        """Which points are not outliers from the centre of them all."""
        centre = unit_rows(points.mean(axis=0, keepdims=True))[0]
        distance = 1.0 - points @ centre
        median = np.median(distance)
        spread = 1.4826 * np.median(np.abs(distance - median))
        return distance <= median + self.outlier_mads * max(spread, 1e-3)

    def themes(self, points: np.ndarray) -> np.ndarray:
        """0 for all, or the best split into really different sub-themes (largest first)."""
        rng = np.random.default_rng(self.random_state)
        sample = np.arange(len(points))
        if len(points) > self.max_sample:
            sample = np.sort(rng.choice(len(points), self.max_sample, replace=False))
        tree = linkage(condensed_cosine(points[sample]), method="average")
        best, best_score = np.zeros(len(sample), dtype=np.int64), self.min_silhouette
        for k in range(2, self.max_themes + 1):
            split = fcluster(tree, t=k, criterion="maxclust") - 1
            if np.bincount(split).min() < self.min_size:
                continue
            score = self.silhouette(points[sample], split)
            if score >= best_score:
                best, best_score = split, score
        full = np.full(len(points), -1, dtype=np.int64)
        full[sample] = best
        full = nearest_cluster(points, full)
        order = np.argsort(-np.bincount(full), kind="stable")
        return np.argsort(order)[full]

    @staticmethod
    def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
        """Mean silhouette (cosine distance) of points that all have a cluster label."""
        distances = 1.0 - points @ points.T
        clusters, index = np.unique(labels, return_inverse=True)
        sizes = np.bincount(index).astype(np.float64)
        sums = np.column_stack([distances[:, index == c].sum(axis=1)
                                for c in range(len(clusters))])
        rows = np.arange(len(points))
        inside = sums[rows, index] / np.maximum(sizes[index] - 1, 1)
        means = sums / sizes
        means[rows, index] = np.inf
        nearest = means.min(axis=1)
        scores = (nearest - inside) / np.maximum(np.maximum(nearest, inside), 1e-12)
        scores[sizes[index] == 1] = 0.0
        return float(scores.mean())


def nearest_cluster(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``labels`` with each noise point (-1) given the cluster whose centre is nearest."""
    labels = np.asarray(labels).copy()
    clusters = sorted(set(labels[labels >= 0].tolist()))
    noise = labels < 0
    if clusters and noise.any():
        centres = unit_rows(np.vstack([points[labels == c].mean(axis=0) for c in clusters]))
        labels[noise] = np.asarray(clusters)[(points[noise] @ centres.T).argmax(axis=1)]
    return labels


def mean_pairwise_distance(points: np.ndarray) -> float:
    """Mean cosine distance over all pairs of unit rows, from their sum (O(n·d))."""
    n = len(points)
    if n < 2:
        return 0.0
    total = points.astype(np.float64).sum(axis=0)
    return float(1.0 - (total @ total - n) / (n * (n - 1)))
