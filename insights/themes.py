"""Two levels of complaints: clusters merged into themes, and a readable title for each.

A product team reads 10–20 themes, each made of the finer clusters (sub-themes) the clusterer
found. ``CentroidMerge`` joins clusters whose posts are close (average linkage continued from
the clusters up); clusters too small to be a theme join the nearest theme, or the "other" theme when
no theme is near. ``TitlePicker`` names a theme or cluster with one of its own sentences: of
the posts nearest its centre, the sentence that carries most of its key phrases, without the
fillers it opens with, trimmed to about 100 characters at a word boundary. Pure: no database,
no model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np

from insights.phrases import Lemmatiser, cyrillic_language, load_fillers, normalise

OTHER_THEME = "other"
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_TRAILING = " ,;:—–-"


class CentroidMerge:
    """Themes from clusters: average linkage continued from the clusters up.

    ``centres`` are each cluster's mean of its members' unit vectors (not normalised), so the
    distance of two groups, ``1 - a·b``, is the mean cosine distance between their posts: the
    rule the clusterer used, with a looser cut. The cut is where the linkage makes its largest
    jump in distance, among cuts that leave between ``min_themes`` (fewer when there are few
    clusters: a third of them, at least 2) and ``max_themes`` themes; groups farther apart
    than ``max_distance`` (their posts unrelated on average) are never merged. A theme of
    fewer posts than ``min_size`` (or ``min_share`` of all clustered posts, if more) is broken
    up: each of its clusters joins the theme nearest it, if within ``join_distance``, else the
    "other" theme (-1). When no theme is that large, the themes stay as linked.
    """

    def __init__(self, min_themes: int = 10, max_themes: int = 20, max_distance: float = 1.1,
                 min_size: int = 10, min_share: float = 0.01, join_distance: float = 1.0
                 ) -> None:
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.max_distance = max_distance
        self.min_size = min_size
        self.min_share = min_share
        self.join_distance = join_distance

    def merge(self, centres: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
        """The theme of each cluster: 0, 1, … largest first; -1 for "other"."""
        means = np.asarray(centres, dtype=np.float64)
        sizes = np.asarray(sizes, dtype=np.float64)
        k = len(means)
        if k < 2:
            return np.zeros(k, dtype=np.int64)
        merges = average_linkage(means, sizes)
        heights = [height for _, _, height in merges]
        groups = np.arange(k)
        for a, b, _ in merges[: k - self.theme_count(heights)]:
            groups[groups == groups[b]] = groups[a]
        totals = np.bincount(groups, weights=sizes, minlength=k)
        floor = max(self.min_size, self.min_share * sizes.sum())
        large = np.flatnonzero(totals >= floor)
        if len(large):
            theme_means = np.vstack([(means[groups == g] * sizes[groups == g, None]).sum(axis=0)
                                     / totals[g] for g in large])
            for c in np.flatnonzero(~np.isin(groups, large)):
                distance = 1.0 - theme_means @ means[c]
                best = int(distance.argmin())
                groups[c] = large[best] if distance[best] <= self.join_distance else -1
        return _by_size(groups, sizes)

    def theme_count(self, heights: Sequence[float]) -> int:
        """How many themes to keep, given the heights of the ``k - 1`` merges in order."""
        k = len(heights) + 1
        apart = sum(height > self.max_distance for height in heights)
        low = max(min(self.min_themes, max(2, k // 3)), apart + 1)
        high = max(min(self.max_themes, k - 1), low)
        if low >= k:
            return k
        # leaving c themes: the merges up to heights[k - c - 1] are made, heights[k - c] is not
        return max(range(low, high + 1),
                   key=lambda c: (heights[k - c] - heights[k - c - 1], c))


def average_linkage(means: np.ndarray, sizes: np.ndarray) -> list[tuple[int, int, float]]:
    """Every merge of average linkage over groups given by their mean unit vector and size,
    in order: ``(kept, merged into it, mean cosine distance between their members)``."""
    means, sizes = means.copy(), sizes.astype(np.float64).copy()
    distance = 1.0 - means @ means.T
    np.fill_diagonal(distance, np.inf)
    alive = np.ones(len(means), dtype=bool)
    merges = []
    for _ in range(len(means) - 1):
        a, b = np.unravel_index(int(distance.argmin()), distance.shape)
        a, b = int(min(a, b)), int(max(a, b))
        merges.append((a, b, float(distance[a, b])))
        means[a] = (sizes[a] * means[a] + sizes[b] * means[b]) / (sizes[a] + sizes[b])
        sizes[a] += sizes[b]
        alive[b] = False
        row = np.where(alive, 1.0 - means @ means[a], np.inf)
        row[a] = np.inf
        distance[a, :], distance[:, a] = row, row
        distance[b, :], distance[:, b] = np.inf, np.inf
    return merges


def _by_size(groups: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Groups renumbered 0, 1, … by total size (largest first, then first cluster); -1 kept."""
    kept = sorted({int(g) for g in groups if g >= 0},
                  key=lambda g: (-sizes[groups == g].sum(), int(np.flatnonzero(groups == g)[0])))
    rank = {g: r for r, g in enumerate(kept)}
    return np.array([rank.get(int(g), -1) for g in groups], dtype=np.int64)


def sentences(text: str) -> list[str]:
    """The sentences of a post: split after . ! ? … and at line breaks."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text or "") if part.strip()]


@cache
def _leading_fillers() -> re.Pattern:
    """Fillers at the start of a sentence, up to the comma after the last one."""
    words = "|".join(sorted((re.escape(w) for w in load_fillers()), key=len, reverse=True))
    return re.compile(rf"^(?:(?:{words})[\s,]+)*(?:{words})\s*,\s*", re.IGNORECASE)


def without_fillers(sentence: str) -> str:
    """``sentence`` without the fillers it opens with ("Короче, блин, абонплату подняли" →
    "Абонплату подняли"); unchanged when nothing would be left."""
    rest = _leading_fillers().sub("", sentence)
    if not rest.strip() or rest == sentence:
        return sentence
    return rest[0].upper() + rest[1:]


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
    ``max_length`` characters, are chosen only when no other is there. The title is that
    sentence without the fillers it opens with, trimmed to ``limit`` characters.
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
        return trim(without_fillers(best), self.limit)
