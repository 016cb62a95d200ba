"""Two levels of complaints: clusters merged into themes, and a readable title for each.

A product team reads 10–20 themes, each made of the finer clusters (sub-themes) the clusterer
found. ``CentroidMerge`` joins clusters whose centres are close (average linkage on the
centres); clusters too small to be a theme join the nearest theme, or the "other" theme when
no theme is near. ``TitlePicker`` names a theme or cluster with one of its own sentences: of
the posts nearest its centre, the sentence that carries most of its key phrases, trimmed to
about 100 characters at a word boundary. Pure: no database, no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from insights.cluster_steps import condensed_cosine, unit_rows
from insights.phrases import Lemmatiser, cyrillic_language, normalise

OTHER_THEME = "other"
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_TRAILING = " ,;:—–-"


class CentroidMerge:
    """Themes from clusters: average linkage on the clusters' centres (cosine distance), cut
    at ``threshold``, and at most ``max_themes`` themes. A theme of fewer posts than
    ``min_size`` (or ``min_share`` of all clustered posts, if more) is broken up: each of its
    clusters joins the theme whose centre is nearest, if within ``join_distance``, else the
    "other" theme (-1). When no theme is that large, the themes stay as linked.
    """

    def __init__(self, threshold: float = 0.5, max_themes: int = 20, min_size: int = 10,
                 min_share: float = 0.01, join_distance: float = 0.6) -> None:
        self.threshold = threshold
        self.max_themes = max_themes
        self.min_size = min_size
        self.min_share = min_share
        self.join_distance = join_distance

    def merge(self, centres: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
        """The theme of each cluster: 0, 1, … largest first; -1 for "other"."""
        sizes = np.asarray(sizes, dtype=np.float64)
        points = unit_rows(centres)
        if len(points) < 2:
            return np.zeros(len(points), dtype=np.int64)
        tree = linkage(condensed_cosine(points), method="average")
        groups = fcluster(tree, t=self.threshold, criterion="distance") - 1
        if groups.max() + 1 > self.max_themes:
            groups = fcluster(tree, t=self.max_themes, criterion="maxclust") - 1
        totals = np.bincount(groups, weights=sizes)
        floor = max(self.min_size, self.min_share * sizes.sum())
        large = np.flatnonzero(totals >= floor)
        if len(large):
            means = unit_rows(np.vstack([(points[groups == g] * sizes[groups == g, None]).sum(
                axis=0) for g in large]))
            for k in np.flatnonzero(~np.isin(groups, large)):
                similarity = means @ points[k]
                best = int(similarity.argmax())
                groups[k] = large[best] if 1.0 - similarity[best] <= self.join_distance else -1
        return _by_size(groups, sizes)


def _by_size(groups: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Groups renumbered 0, 1, … by total size (largest first, then first cluster); -1 kept."""
    kept = sorted({int(g) for g in groups if g >= 0},
                  key=lambda g: (-sizes[groups == g].sum(), int(np.flatnonzero(groups == g)[0])))
    rank = {g: r for r, g in enumerate(kept)}
    return np.array([rank.get(int(g), -1) for g in groups], dtype=np.int64)


def sentences(text: str) -> list[str]:
    """The sentences of a post: split after . ! ? … and at line breaks."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text or "") if part.strip()]


def trim(text: str, limit: int = 100) -> str:
    """``text`` on one line, cut at the last word boundary before ``limit`` with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(_TRAILING) + "…"


class TitlePicker:
    """A title for a group of posts: one of their sentences, chosen among the ``posts``
    nearest the centre as the one that carries the most key-phrase weight (a phrase counts
    when all its lemmas are in the sentence); ties go to the nearer post, then the earlier
    sentence. Sentences of fewer than ``min_words`` content words, or longer than
    ``max_length`` characters, are chosen only when no other is there.
    """

    def __init__(self, posts: int = 5, limit: int = 100, min_words: int = 3,
                 max_length: int = 240, lemmatiser: Lemmatiser | None = None) -> None:
        self.posts = posts
        self.limit = limit
        self.min_words = min_words
        self.max_length = max_length
        self.lemmatiser = lemmatiser or Lemmatiser()

    def title(self, texts: Sequence[str], terms: Sequence[tuple[str, float]]) -> str:
        """``texts``: the group's posts, nearest the centre first; ``terms``: its key phrases."""
        best, best_key = "", None
        for rank, text in enumerate(texts[: self.posts]):
            lang = cyrillic_language(text)
            phrases = [({self.lemmatiser.lemma(normalise(w), lang) for w in term.split()}, weight)
                       for term, weight in terms]
            for order, sentence in enumerate(sentences(text)):
                lemmas = {w[0] for w in self.lemmatiser.lemmas(sentence, lang) if w is not None}
                fits = len(lemmas) >= self.min_words and len(sentence) <= self.max_length
                score = sum(weight for words, weight in phrases
                            if None not in words and words <= lemmas)
                key = (fits, round(score, 9), -rank, -order)
                if best_key is None or key > best_key:
                    best, best_key = sentence, key
        return trim(best, self.limit)
