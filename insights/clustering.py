"""Complaint themes for product teams: embed → reduce → cluster → merge → label, on two
levels, with stable ids and trends.

Pure: no database. The caller passes mention ids with their texts and, when it has them, the
stored embeddings (so only the cheap steps run); it gets fine clusters (sub-themes) and the
themes they merge into, each with a title (one of its own sentences), key phrases (lemmas),
members with their distance to the centre and the most representative posts. Noise (posts
like no other) stays out of every cluster. Between runs, ``match_clusters`` (called by
``ClusterPipeline.run`` for each level when given the previous run's) keeps an id when its
members barely changed. The steps live in ``insights/cluster_steps.py``,
``insights/phrases.py`` (key phrases) and ``insights/themes.py`` (merge, titles).

    result = ClusterPipeline().run(ids, texts, embeddings=vectors, previous=old_clusters,
                                   previous_themes=old_themes)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy.optimize import linear_sum_assignment

from insights.cluster_steps import (
    AverageLinkage,
    PCAReducer,
    SingleThemeCheck,
    absorb_noise,
    default_embedder,
    unit_rows,
)
from insights.phrases import ClassTfidfLabeler, label_from_terms
from insights.themes import OTHER_THEME, CentroidMerge, TitlePicker

MIN_JACCARD = 0.3
MIN_CENTROID_SIMILARITY = 0.97  # e5 cosine of two centres; see docs/clusters.md
ABSORB = 0.85  # noise joins a cluster within this mean distance; see docs/clusters.md
TITLE_POSTS = 20  # the posts nearest a centre that the title step may read


@dataclass(frozen=True)
class Cluster:
    """One complaint theme or cluster (sub-theme). ``label``: its top key phrases; ``terms``:
    key phrases with their weights; ``members``: (mention id, cosine distance to the centre),
    nearest first; ``centroid``: unit mean of the members' embeddings (kept to match the next
    run; ``None`` when the embedder's space is fitted on each corpus); ``title``: a sentence
    of one of its posts; ``theme``: the id of the theme a cluster belongs to (``None`` for a
    theme)."""

    id: str
    label: str
    terms: tuple[tuple[str, float], ...]
    members: tuple[tuple[str, float], ...]
    representatives: tuple[str, ...]
    centroid: np.ndarray | None = field(default=None, compare=False, repr=False)
    title: str = ""
    theme: str | None = None

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def member_ids(self) -> list[str]:
        return [mention for mention, _ in self.members]

    def record(self) -> dict:
        """A ``clusters`` row without timestamps: terms and details as plain JSON values;
        ``parent_id`` is the theme of a sub-theme."""
        details = {"representatives": list(self.representatives)}
        if self.centroid is not None:
            details["centroid"] = [round(float(x), 5) for x in self.centroid]
        return {"id": self.id, "label": self.label, "title": self.title, "size": self.size,
                "terms": [[term, score] for term, score in self.terms], "details": details,
                "parent_id": self.theme}

    def member_records(self) -> list[dict]:
        """``cluster_members`` rows; ``score`` is the cosine distance to the centre."""
        chosen = set(self.representatives)
        return [{"cluster_id": self.id, "mention_id": mention, "score": round(distance, 5),
                 "representative": int(mention in chosen)} for mention, distance in self.members]


@dataclass(frozen=True)
class ClusterRef:
    """A previous run's cluster, as matching needs it: id, member ids, centre (optional)."""

    id: str
    member_ids: Sequence[str]
    centroid: np.ndarray | None = None

    @classmethod
    def from_record(cls, record: dict, member_ids: Iterable[str]) -> ClusterRef:
        """From a stored ``clusters`` row (details as a dict) and its member ids."""
        centroid = (record.get("details") or {}).get("centroid")
        return cls(record["id"], list(member_ids),
                   None if centroid is None else np.asarray(centroid, dtype=np.float32))


@dataclass(frozen=True)
class ClusterResult:
    """Clusters (sub-themes) largest first, the noise ids, what ran (``steps``: each step's
    class) and the themes largest first, "other" last (empty when the merge step is off)."""

    clusters: list[Cluster]
    noise: list[str]
    steps: dict[str, str]
    themes: list[Cluster] = field(default_factory=list)

    def sub_themes(self, theme: Cluster) -> list[Cluster]:
        """The clusters of one theme, largest first."""
        return [c for c in self.clusters if c.theme == theme.id]


class ClusterPipeline:
    """embed → reduce → cluster → check → merge → label → title, each step swappable (see
    ``insights.cluster_steps``, ``insights.phrases``, ``insights.themes``).

    ``embed`` is only built when texts must be embedded (no ``embeddings`` passed); the
    default is the e5 encoder, or TF-IDF character n-grams with a logged notice when the
    encoder cannot load. An embedder whose space is fitted on each corpus (``corpus_bound``,
    as TF-IDF) gives clusters no centroid: the next run matches them by members alone.
    ``reduce``, ``check`` or ``merge`` ``None`` in the constructor means the default; pass
    ``False`` to skip the step. The check (``SingleThemeCheck``) keeps a set of posts that all
    share one theme in one cluster. Then a post left as noise joins the cluster whose posts are
    on average within ``absorb`` of it in the reduced space (``None``: never), so that only
    posts unlike every cluster stay noise. The merge
    (``CentroidMerge``) joins clusters into themes by the mean distance of their posts in the
    reduced space.
    """

    def __init__(self, embed=None, reduce=None, cluster=None, label=None,
                 representatives: int = 3, label_words: int = 3, check=None, merge=None,
                 title=None, absorb: float | None = ABSORB) -> None:
        self.embed = embed
        self.reduce = PCAReducer() if reduce is None else (None if reduce is False else reduce)
        self.cluster = AverageLinkage() if cluster is None else cluster
        self.check = SingleThemeCheck() if check is None else (None if check is False else check)
        self.merge = CentroidMerge() if merge is None else (None if merge is False else merge)
        self.labeler = ClassTfidfLabeler() if label is None else label
        self.titles = TitlePicker() if title is None else title
        self.absorb = absorb
        self.representatives = representatives
        self.label_words = label_words

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed with the configured step, building the default one on first use."""
        if self.embed is None:
            self.embed = default_embedder()
        return np.asarray(self.embed.encode(list(texts)), dtype=np.float32)

    def run(self, ids: Sequence[str], texts: Sequence[str] | None = None,
            embeddings: np.ndarray | Mapping[str, np.ndarray] | None = None,
            previous: Sequence[ClusterRef | Cluster] | None = None,
            previous_themes: Sequence[ClusterRef | Cluster] | None = None) -> ClusterResult:
        """Cluster the mentions ``ids``; ``texts`` (in the same order) give key phrases and
        titles.

        ``embeddings``: an array (one row per id) skips the embed step; a mapping id → vector
        (the stored ones) embeds only the ids it lacks. ``previous`` and ``previous_themes``:
        last run's clusters and themes, whose ids are kept where the members barely changed.
        """
        ids = [str(i) for i in ids]
        if len(set(ids)) != len(ids):
            raise ValueError("ids must be unique; got repeated mention ids")
        if texts is not None and len(texts) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        vectors, embedded = self._vectors(ids, texts, embeddings)
        comparable = embedded == "precomputed" or not getattr(self.embed, "corpus_bound", False)
        steps = {"embed": embedded,
                 "reduce": "none" if self.reduce is None else type(self.reduce).__name__,
                 "cluster": type(self.cluster).__name__,
                 "check": "none" if self.check is None else type(self.check).__name__,
                 "merge": "none" if self.merge is None else type(self.merge).__name__,
                 "label": type(self.labeler).__name__ if texts is not None else "none"}
        if len(ids) < 2:
            return ClusterResult([], ids, steps)
        reduced = vectors if self.reduce is None else self.reduce.fit_transform(vectors)
        labels = np.asarray(self.cluster.fit_predict(reduced))
        if self.check is not None:
            labels = np.asarray(self.check.check(vectors, labels))
        if self.absorb is not None:
            labels = absorb_noise(reduced, labels, self.absorb)
        found = sorted(set(labels.tolist()) - {-1})
        theme_labels, other = self._themes(reduced, labels, found)
        terms, theme_terms = self._terms(texts, [labels, theme_labels])
        clusters = [self._build(ids, texts, vectors, labels, c, terms.get(c, []), comparable)
                    for c in found]
        if previous is not None:
            clusters = match_clusters(previous, clusters)
        themes = []
        if self.merge is not None and found:
            themes = [self._build(ids, texts, vectors, theme_labels, t, theme_terms.get(t, []),
                                  comparable, prefix="t", titled=t != other)
                      for t in range(int(theme_labels.max()) + 1)]
            named = themes[:other] if other is not None else themes
            if previous_themes is not None:
                named = match_clusters([t for t in previous_themes if t.id != OTHER_THEME],
                                       named)
            themes = named + [replace(t, id=OTHER_THEME) for t in themes[len(named):]]
            theme_of = {c: themes[int(theme_labels[labels == c][0])].id for c in found}
            clusters = [replace(cluster, theme=theme_of[c])
                        for cluster, c in zip(clusters, found, strict=True)]
            themes.sort(key=lambda t: (t.id == OTHER_THEME, -t.size, t.id))
        clusters.sort(key=lambda c: (-c.size, c.id))
        noise = [ids[i] for i in np.flatnonzero(labels < 0)]
        return ClusterResult(clusters, noise, steps, themes)

    def _themes(self, reduced, labels, found) -> tuple[np.ndarray, int | None]:
        """Each post's theme (-1: noise) and the label of the "other" theme, if there is one."""
        if self.merge is None or not found:
            return np.full(len(labels), -1, dtype=np.int64), None
        points = unit_rows(reduced)
        centres = np.vstack([points[labels == c].mean(axis=0) for c in found])
        sizes = [int((labels == c).sum()) for c in found]
        theme = np.asarray(self.merge.merge(centres, sizes), dtype=np.int64)
        other = int(theme.max()) + 1 if (theme < 0).any() else None
        theme[theme < 0] = -1 if other is None else other
        lookup = dict(zip(found, theme.tolist(), strict=True))
        return np.array([lookup.get(c, -1) for c in labels.tolist()], dtype=np.int64), other

    def _terms(self, texts, levels) -> list[dict]:
        """Key phrases of each labelling (one reading of the texts when the labeler can)."""
        if texts is None:
            return [{} for _ in levels]
        if hasattr(self.labeler, "label_levels"):
            return self.labeler.label_levels(texts, levels)
        return [self.labeler.label(texts, labels) for labels in levels]

    def _vectors(self, ids, texts, embeddings) -> tuple[np.ndarray, str]:
        """One row per id, embedding what was not given; and what embedded them."""
        if embeddings is not None and not isinstance(embeddings, Mapping):
            vectors = np.asarray(embeddings, dtype=np.float32)
            if len(vectors) != len(ids):
                raise ValueError(f"{len(ids)} ids but {len(vectors)} embeddings")
            return vectors, "precomputed"
        given = embeddings or {}
        missing = [k for k, i in enumerate(ids) if i not in given]
        if missing and texts is None:
            raise ValueError(f"{len(missing)} ids have no embedding and no text to embed")
        fresh = self.embed_texts([texts[k] for k in missing]) if missing else None
        name = type(self.embed).__name__ if missing else ""
        if not given:
            return fresh, name
        width = len(next(iter(given.values())))
        if fresh is not None and fresh.shape[1] != width:
            raise ValueError(f"stored embeddings have {width} dimensions but {name} gives "
                             f"{fresh.shape[1]}; embed with the model that stored them")
        vectors = np.zeros((len(ids), width), dtype=np.float32)
        for k, i in enumerate(ids):
            if i in given:
                vectors[k] = given[i]
        if missing:
            vectors[missing] = fresh
        return vectors, f"precomputed + {name} ({len(missing)})" if missing else "precomputed"

    def _build(self, ids, texts, vectors, labels, cluster, terms, keep_centroid: bool,
               prefix: str = "c", titled: bool = True) -> Cluster:
        rows = np.flatnonzero(labels == cluster)
        centroid = unit_rows(vectors[rows].mean(axis=0, keepdims=True))[0]
        distances = 1.0 - unit_rows(vectors[rows]) @ centroid
        order = sorted(range(len(rows)), key=lambda k: (distances[k], ids[rows[k]]))
        members = tuple((ids[rows[k]], round(float(max(distances[k], 0.0)), 5)) for k in order)
        terms = tuple(terms)
        title = ""
        if texts is not None and titled:
            title = self.titles.title([texts[rows[k]] for k in order[:TITLE_POSTS]], terms)
        label = label_from_terms(terms, self.label_words, getattr(self.labeler, "word_key", None))
        return Cluster(new_cluster_id([m for m, _ in members], prefix), label, terms, members,
                       tuple(m for m, _ in members[: self.representatives]),
                       centroid if keep_centroid else None, title)


def new_cluster_id(member_ids: Iterable[str], prefix: str = "c") -> str:
    """A deterministic id: hash of the five smallest member ids."""
    first = sorted(member_ids)[:5]
    return prefix + hashlib.sha1("\n".join(first).encode()).hexdigest()[:10]


def match_clusters(old: Sequence[ClusterRef | Cluster], new: Sequence[Cluster],
                   min_jaccard: float = MIN_JACCARD,
                   min_similarity: float = MIN_CENTROID_SIMILARITY,
                   new_id: Callable[[Cluster], str] | None = None) -> list[Cluster]:
    """``new`` with ids carried over from ``old`` where the members overlap.

    Overlap is the Jaccard index of member sets, where a new cluster's members that were in
    no old cluster (new posts, last run's noise) count as shared with the old cluster whose
    centre is nearest its own, if the centres' cosine is at least ``min_similarity``. Pairs
    are matched one-to-one to maximise the total overlap (Hungarian); a pair below
    ``min_jaccard`` is no match. Unmatched clusters keep (or get from ``new_id``) a fresh id
    that no old cluster used. An old centre of another width than the new ones (another
    embedder) is no centre: its cluster matches by members alone.
    """
    owner: dict[str, int] = {}
    for i, cluster in enumerate(old):
        for mention in cluster.member_ids:
            owner[mention] = i
    old_sizes = [len(set(cluster.member_ids)) for cluster in old]
    credit = _centroid_credit(old, new, min_similarity)
    score = np.zeros((len(old), len(new)))
    for j, cluster in enumerate(new):
        members = set(cluster.member_ids)
        shared = Counter(owner[m] for m in members if m in owner)
        unseen = sum(1 for m in members if m not in owner)
        for i in set(shared) | ({credit[j]} if credit[j] is not None else set()):
            both = shared.get(i, 0) + (unseen if credit[j] == i else 0)
            union = old_sizes[i] + len(members) - shared.get(i, 0)
            score[i, j] = both / union if union else 0.0
    rows, cols = linear_sum_assignment(score, maximize=True) if score.size else ([], [])
    ids: dict[int, str] = {j: old[i].id for i, j in zip(rows, cols, strict=True)
                           if score[i, j] >= min_jaccard}
    taken = {c.id for c in old} | set(ids.values())
    out = []
    for j, cluster in enumerate(new):
        cid = ids.get(j)
        if cid is None:
            cid = base = new_id(cluster) if new_id else cluster.id
            suffix = 2
            while cid in taken:
                cid, suffix = f"{base}-{suffix}", suffix + 1
            taken.add(cid)
        out.append(replace(cluster, id=cid))
    return out


def _centroid_credit(old, new, min_similarity) -> list[int | None]:
    """For each new cluster, the old cluster with the nearest centre of the same width, if
    near enough."""
    by_width: dict[int, list[int]] = {}
    for i, cluster in enumerate(old):
        if cluster.centroid is not None:
            by_width.setdefault(len(cluster.centroid), []).append(i)
    centres = {width: unit_rows(np.vstack([old[i].centroid for i in have]))
               for width, have in by_width.items()}
    credit: list[int | None] = []
    for cluster in new:
        width = None if cluster.centroid is None else len(cluster.centroid)
        if width not in centres:
            credit.append(None)
            continue
        similarity = centres[width] @ unit_rows(cluster.centroid[None, :])[0]
        best = int(similarity.argmax())
        credit.append(by_width[width][best] if similarity[best] >= min_similarity else None)
    return credit


@dataclass(frozen=True)
class Trend:
    """Mentions in the last ``days`` vs the ``days`` before; ``ratio`` None when none before."""

    current: int
    previous: int
    change: int
    ratio: float | None


def cluster_trend(dates: Iterable[datetime | str], now: datetime | str, days: int = 7) -> Trend:
    """Count dates in (now - days, now] and (now - 2·days, now - days]; naive times are UTC."""
    end = _as_utc(now)
    period = timedelta(days=days)
    current = previous = 0
    for value in dates:
        when = _as_utc(value)
        if end - period < when <= end:
            current += 1
        elif end - 2 * period < when <= end - period:
            previous += 1
    ratio = round(current / previous, 3) if previous else None
    return Trend(current, previous, current - previous, ratio)


def _as_utc(value: datetime | str) -> datetime:
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) \
        else value
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
