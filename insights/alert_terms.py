"""Distinctive words of an incident's posts against the posts of its baseline period.

Weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008,
"Fightin' Words"): the prior is the word's share in both sets together, so rare words do not
win by chance and words common to both (the brand's name) score near zero. A word counts once
per post, so one long rant cannot carry a term. ru / uk / en: letters of any script, apostrophes
inside words kept (Ukrainian "зв'язок"); a light prefix stem joins inflected forms ("роуминг",
"роуминга") and the most frequent form is shown. Pure apart from reading the stop-word list.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

STOPWORDS_PATH = Path(__file__).parent / "data" / "stopwords.yaml"
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`-][^\W\d_]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "ё": "е"})


@dataclass(frozen=True)
class Term:
    """A distinctive word: shown form, z-score, posts containing it in each period."""

    term: str
    score: float
    incident_posts: int
    baseline_posts: int


@lru_cache(maxsize=4)
def load_stopwords(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    """All languages' stop words from the YAML list, normalised like tokens."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return frozenset(_normalise(str(word)) for words in data.values() for word in words or ())


def tokenize(text: str, stopwords: Iterable[str] = ()) -> list[str]:
    """Lower-cased words of three letters or more, stop words dropped, in text order."""
    stop = stopwords if isinstance(stopwords, frozenset | set) else set(stopwords)
    words = (_normalise(match) for match in _WORD.findall(text or ""))
    return [word for word in words if len(word) >= 3 and word not in stop]


def distinctive_terms(incident_texts: Iterable[str], baseline_texts: Iterable[str],
                      top: int = 10, min_posts: int = 2, prior_size: float = 100.0,
                      stopwords: Iterable[str] | None = None, exclude: Iterable[str] = (),
                      stem_length: int = 6) -> list[Term]:
    """The ``top`` words over-represented in the incident's posts, highest z-score first.

    ``exclude``: extra words to drop (brand and product names). ``stem_length`` 0 turns the
    prefix stem off. Only words in at least ``min_posts`` incident posts with z > 0 are kept.
    """
    stop = set(load_stopwords() if stopwords is None else map(_normalise, stopwords))
    stop |= {_normalise(word) for word in exclude}
    forms: dict[str, Counter] = {}
    incident = _post_counts(incident_texts, stop, stem_length, forms)
    baseline = _post_counts(baseline_texts, stop, stem_length, None)
    n_incident, n_baseline = sum(incident.values()), sum(baseline.values())
    if not n_incident:
        return []
    combined = incident + baseline
    total = n_incident + n_baseline
    terms = []
    for key, y_i in incident.items():
        if y_i < min_posts:
            continue
        y_j = baseline.get(key, 0)
        alpha = prior_size * combined[key] / total
        delta = (math.log((y_i + alpha) / (n_incident + prior_size - y_i - alpha))
                 - math.log((y_j + alpha) / (n_baseline + prior_size - y_j - alpha)))
        z = delta / math.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
        if z > 0:
            form = min(forms[key].items(), key=lambda item: (-item[1], item[0]))[0]
            terms.append(Term(form, round(z, 3), y_i, y_j))
    terms.sort(key=lambda term: (-term.score, term.term))
    return terms[:top]


def _post_counts(texts: Iterable[str], stop: set[str], stem_length: int,
                 forms: dict[str, Counter] | None) -> Counter:
    """Posts containing each stem; records surface forms per stem when ``forms`` is given."""
    counts: Counter = Counter()
    for text in texts:
        seen = set()
        for word in tokenize(text, stop):
            key = word[:stem_length] if stem_length else word
            seen.add(key)
            if forms is not None:
                forms.setdefault(key, Counter())[word] += 1
        counts.update(seen)
    return counts


def _normalise(word: str) -> str:
    return word.lower().translate(_APOSTROPHES)
