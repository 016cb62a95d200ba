"""Content words of complaints as lemmas, for key phrases and titles: ru / uk / en.

Russian and Ukrainian words go through pymorphy3 (``nlp.components.best_lemma``: "сети" and
"сеть" are one word, "оператор" and "оперативно" two), English words through spaCy's lookup
lemmas ("charged" → "charge"). Left out: words pymorphy3 tags as pronouns, prepositions,
conjunctions, particles, interjections, numerals or predicatives; the stop words of every
language and the boilerplate of brand replies (``insights/data/cluster_stopwords.yaml``),
checked on the word and on its lemma; English contractions ("we'll"); words of fewer than
three letters; and any names the caller passes (brand and product names), in any inflection
(``nlp.components.stem``: "Вольни" goes with "Вольна").
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import yaml
from scipy import sparse

from nlp.components import best_lemma, best_pos, stem, word_language

log = logging.getLogger(__name__)

STOPWORDS_PATH = Path(__file__).parent / "data" / "cluster_stopwords.yaml"
LEMMA_NAMES_PATH = Path(__file__).parent / "data" / "lemma_names.yaml"
WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`-][^\W\d_]+)*")
FUNCTION_POS = frozenset({"NPRO", "PREP", "CONJ", "PRCL", "INTJ", "NUMR", "PRED"})
_NORMALISE = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "ё": "е"})
_CYRILLIC = re.compile(r"[а-яіїєґ]")
_UKRAINIAN = re.compile(r"[іїєґ]")


def normalise(word: str) -> str:
    """Lower case, ё → е, typographic apostrophes → ``'``."""
    return word.lower().translate(_NORMALISE)


def cyrillic_language(text: str) -> str:
    """uk when ``text`` has a letter only Ukrainian uses, else ru."""
    return "uk" if _UKRAINIAN.search((text or "").lower()) else "ru"


@lru_cache(maxsize=4)
def load_stopwords(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    """All languages' stop words and brand boilerplate from the YAML list, normalised."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return frozenset(normalise(str(word)) for words in data.values() for word in words or ())


@lru_cache(maxsize=4)
def load_fillers(path: Path = STOPWORDS_PATH) -> frozenset[str]:
    """The fillers of social posts ("короче", "honestly"), normalised."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return frozenset(normalise(str(word)) for word in data.get("filler") or ())


@lru_cache(maxsize=4)
def load_lemma_names(path: Path = LEMMA_NAMES_PATH) -> dict[str, str]:
    """Lemmas shown under another name (pymorphy3's "деньга" is shown as "деньги")."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return {normalise(str(k)): str(v) for k, v in data.items()}


@cache
def _english_lemmas() -> Mapping[str, str]:
    """spaCy's English lookup table (spacy-lookups-data); empty, with a notice, without it."""
    try:
        from spacy.lookups import load_lookups

        return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")
    except Exception as error:  # the package is optional: words stay as written
        log.warning("Key phrases: no English lemma table (%s); install spacy-lookups-data",
                    error)
        return {}


class Lemmatiser:
    """Lemmas of the content words of a text, in order, with ``None`` where a word is left
    out (so that phrases never join words across it). ``exclude``: more words to leave out,
    such as brand and product names (split into words, matched on words and lemmas)."""

    def __init__(self, exclude: Iterable[str] = (), stopwords: Iterable[str] | None = None
                 ) -> None:
        base = load_stopwords() if stopwords is None else frozenset(map(normalise, stopwords))
        words = {normalise(part) for name in exclude for part in WORD.findall(name)}
        self.stopwords = base | words
        self.excluded_stems = {stem(word) for word in words if len(word) >= 3}
        self.names = load_lemma_names()
        self._cache: dict[tuple[str, str], str | None] = {}

    def lemmas(self, text: str, default: str | None = None) -> list[tuple[str, str] | None]:
        """``(lemma, word as written, lower case)`` per word of ``text``; ``None`` if left out.
        ``default``: the language of Cyrillic words with no letter of their own (ru or uk;
        ``None``: uk if the text has Ukrainian letters, else ru)."""
        default = default or cyrillic_language(text)
        out: list[tuple[str, str] | None] = []
        for word in WORD.findall(normalise(text or "")):
            lemma = self.lemma(word, default)
            out.append(None if lemma is None else (lemma, word))
        return out

    def lemma(self, word: str, default: str = "ru") -> str | None:
        """The lemma of one normalised word, or ``None`` when it is no content word."""
        key = (word, default)
        if key not in self._cache:
            self._cache[key] = self._content_lemma(word, default)
        return self._cache[key]

    def _content_lemma(self, word: str, default: str) -> str | None:
        if len(word) < 3 or word in self.stopwords or stem(word) in self.excluded_stems:
            return None
        if _CYRILLIC.search(word):
            lang = word_language(word, default)
            if best_pos(lang, word) in FUNCTION_POS:
                return None
            lemma = normalise(best_lemma(lang, word))
        else:
            if "'" in word:  # we'll, customer's: the word before the apostrophe
                word = word.split("'")[0]
                if len(word) < 3 or word in self.stopwords:
                    return None
            lemma = normalise(_english_lemmas().get(word, word))
        if len(lemma) < 3 or lemma in self.stopwords:
            return None
        return self.names.get(lemma, lemma)

class ClassTfidfLabeler:
    """Distinctive key phrases per cluster against the rest: class-based TF-IDF (as in BERTopic).

    Phrases are the lemmas of content words (``insights.phrases.Lemmatiser``: pymorphy3 for
    ru / uk, spaCy lookup lemmas for en; no stop words, pronouns, numerals or brand names) and
    pairs of adjacent ones. A phrase counts once per post; its weight in a cluster is its
    share of the cluster's phrase counts times ``log(1 + A / f)``, ``A`` the mean phrase count
    per class and ``f`` the phrase's count over all classes (noise is a class too, so common
    words score low). One word is shown as its lemma ("сеть" for "сети"), a pair as it is
    most often written ("мобильной связи"). ``exclude``: names to leave out (brands).
    """

    def __init__(self, top: int = 10, min_posts: int = 2, exclude: Sequence[str] = (),
                 stopwords: Sequence[str] | None = None) -> None:
        self.top = top
        self.min_posts = min_posts
        self.lemmatiser = Lemmatiser(exclude, stopwords)

    def label(self, texts: Sequence[str], labels: np.ndarray) -> dict[int, list[tuple[str, float]]]:
        """``{cluster: [(phrase, weight), …]}``, best first, for every label but -1."""
        return self.label_levels(texts, [labels])[0]

    def label_levels(self, texts: Sequence[str], levels: Sequence[np.ndarray]
                     ) -> list[dict[int, list[tuple[str, float]]]]:
        """``label`` for several labellings of the same texts, reading each text once."""
        posts, forms = self._phrases(texts)
        return [self._weigh(posts, forms, np.asarray(labels)) for labels in levels]

    def word_key(self, word: str) -> str:
        """The lemma a shown word stands for (to tell phrases that repeat a word)."""
        return self.lemmatiser.lemma(normalise(word)) or normalise(word)

    def _phrases(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, list[Counter]]:
        vocab: dict[str, int] = {}
        forms: list[Counter] = []
        rows: list[int] = []
        cols: list[int] = []
        for row, text in enumerate(texts):
            for key, form in dict(reversed(self._terms(text))).items():
                col = vocab.setdefault(key, len(vocab))
                if col == len(forms):
                    forms.append(Counter())
                forms[col][form] += 1
                rows.append(row)
                cols.append(col)
        posts = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                  shape=(len(texts), len(vocab)))
        return posts, forms

    def _weigh(self, posts, forms, labels) -> dict[int, list[tuple[str, float]]]:
        classes = sorted(set(labels.tolist()))
        if not forms or not classes:
            return {}
        index = {c: i for i, c in enumerate(classes)}
        member = sparse.csr_matrix(
            (np.ones(len(labels)), ([index[c] for c in labels.tolist()], np.arange(len(labels)))),
            shape=(len(classes), len(labels)))
        counts = (member @ posts).tocsr()
        totals = np.asarray(counts.sum(axis=1)).ravel()
        idf = np.log(1.0 + totals.mean() / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
        sizes = Counter(labels.tolist())
        out: dict[int, list[tuple[str, float]]] = {}
        for cluster in classes:
            if cluster < 0:
                continue
            row = counts.getrow(index[cluster])
            floor = min(self.min_posts, max(1, sizes[cluster] // 2))
            cells = [(float(c) / max(totals[index[cluster]], 1.0) * idf[j], j)
                     for j, c in zip(row.indices, row.data, strict=True) if c >= floor]
            cells = sorted((-w, _shown(forms[j]), j) for w, j in cells if w > 0)[: self.top]
            out[int(cluster)] = [(form, round(float(-w), 5)) for w, form, _ in cells]
        return out

    def _terms(self, text: str) -> list[tuple[str, str]]:
        """(key, shown form) of each lemma and pair of adjacent lemmas in ``text``."""
        words = self.lemmatiser.lemmas(text)
        terms = [(word[0], word[0]) for word in words if word is not None]
        terms += [(f"{a[0]} {b[0]}", f"{a[1]} {b[1]}")
                  for a, b in zip(words, words[1:], strict=False)
                  if a is not None and b is not None and a[0] != b[0]]
        return terms


def _shown(forms: Counter) -> str:
    """The commonest form (alphabetical on ties)."""
    return min(forms.items(), key=lambda item: (-item[1], item[0]))[0]


def label_from_terms(terms: Sequence[tuple[str, float]], words: int = 3,
                     word_key: Callable[[str], str] | None = None) -> str:
    """A short label: the top terms, skipping any whose words are already shown
    (``word_key``: what makes two words the same, such as their lemma)."""
    key = word_key or (lambda word: word)
    shown: list[tuple[str, set[str]]] = []
    seen: set[str] = set()
    for term, _ in terms:
        parts = {key(word) for word in term.split()}
        if parts <= seen:
            continue
        shown = [(s, p) for s, p in shown if not p <= parts]
        shown.append((term, parts))
        seen = set().union(*(p for _, p in shown))
        if len(shown) == words:
            break
    return ", ".join(s for s, _ in shown)
