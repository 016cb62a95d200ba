"""What the learned touchpoint model is fitted on: the catalogue's words, the user's corpus
and the user's labels, turned into labelled sentence vectors.

- the catalogue: each touchpoint's example sentences, its name with its description, and
  its cue phrases (weak);
- the corpus: sentences in which a cue word of a touchpoint was matched are weak positives of
  it; every other sentence is background (mostly names no touchpoint);
- people: sentence labels from the review queue and touchpoint corrections of whole
  mentions (their whole text), strongest of all; ``none`` says a sentence names no
  touchpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.touchpoint_model import LabelledSentence, TouchpointModel, fingerprint, fit

NONE = "none"  # a person's label for "names no touchpoint"
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class HumanLabel:
    """A person's touchpoint label of a sentence (or a whole mention): a catalogue id or
    ``NONE``."""

    text: str
    touchpoint: str


@dataclass(frozen=True)
class CorpusSentence:
    text: str
    cue_touchpoints: frozenset[str]


def catalogue_sentences(catalogue) -> list[tuple[str, str, str]]:
    """``(text, touchpoint id, source)`` for every example, description and cue phrase."""
    out = []
    for touchpoint in catalogue.touchpoints:
        out.append((f"{touchpoint.name}. {touchpoint.description}", touchpoint.id, "example"))
        out += [(text, touchpoint.id, "example")
                for lang in sorted(touchpoint.examples) for text in touchpoint.examples[lang]]
        out += [(cue, touchpoint.id, "cue")
                for lang in sorted(touchpoint.cues) for cue in touchpoint.cues[lang]]
    return out


def fit_fingerprint(catalogue, embedding_version: str, labels: Sequence[HumanLabel]) -> str:
    """What a fit depends on besides the corpus: the catalogue, the vectors' model and the
    people's labels."""
    return fingerprint(catalogue.fingerprint, embedding_version,
                       sorted((label.text, label.touchpoint) for label in labels))


def fit_touchpoints(catalogue, embed: Embed, corpus: Sequence[CorpusSentence],
                    corpus_vectors: np.ndarray, labels: Sequence[HumanLabel],
                    fitted_on: str, **options) -> TouchpointModel:
    """Fit the touchpoint model of ``catalogue`` (``embed`` must give vectors in the space of
    ``corpus_vectors``); ``options`` go to ``nlp.touchpoint_model.fit``."""
    keys = [t.id for t in catalogue.touchpoints]
    known = set(keys)
    labelled: list[LabelledSentence] = []
    own = catalogue_sentences(catalogue)
    to_embed = [text for text, _, _ in own] + [label.text for label in labels]
    vectors = iter(embed(to_embed) if to_embed else [])
    for text, key, source in own:
        labelled.append(LabelledSentence(text, next(vectors), frozenset({key}), source))
    for label in labels:
        vector = next(vectors)
        if label.touchpoint == NONE or label.touchpoint in known:
            named = frozenset() if label.touchpoint == NONE else frozenset({label.touchpoint})
            labelled.append(LabelledSentence(label.text, vector, named, "human"))
    background = []
    for sentence, vector in zip(corpus, corpus_vectors, strict=True):
        named = sentence.cue_touchpoints & known
        if named:
            labelled.append(LabelledSentence(sentence.text, vector, frozenset(named), "cue"))
        else:
            background.append(vector)
    dim = corpus_vectors.shape[1] if len(corpus_vectors) else labelled[0].vector.shape[0]
    matrix = np.vstack(background) if background else np.zeros((0, dim), np.float32)
    return fit(keys, labelled, matrix, fitted_on, **options)
