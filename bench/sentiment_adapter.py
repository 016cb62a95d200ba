"""Do people's sentiment corrections teach a store? Per labelled set, a user reviews
``--reviewed`` posts of its train split and corrects those the model got wrong (only the
wrong ones become corrections, as on the Mentions page; ``--confirmed``: the user labels
every reviewed post); the store's adapter (``nlp.sentiment_adapter``) is fitted on them,
with the reviewed posts as the store's unlabelled anchors, and scored on the set's dev or
test split against the model alone.

    .venv/bin/python bench/sentiment_adapter.py /work/shared/data/sentiment
        [--split dev|test] [--reviewed 100] [--limit 300] [--confirmed]
        [--pull P --vector-pull V --anchor-weight W] [--grid] [--cache FILE]

``--grid`` scores every combination of the three (choose them on dev). Each text is read
whole by the tagger's own reader (the configured sentiment model and the sentence encoder);
the probabilities and vectors are kept in ``--cache`` so later runs only fit.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from models.train_sentiment import LABELS, load_split, scores  # noqa: E402
from nlp.sentiment import probabilities_of  # noqa: E402
from nlp.sentiment_adapter import (  # noqa: E402
    ANCHOR_WEIGHT,
    PULL,
    VECTOR_PULL,
    LabelledText,
    fit,
)

GRID_PULL = (3.0, 10.0, 30.0)
GRID_VECTOR_PULL = (0.03, 0.1, 0.3, 1.0)
GRID_ANCHOR_WEIGHT = (0.3, 1.0, 3.0)  # per anchor; the reviewed posts are the anchors


def sample(texts, labels, rows: int, seed: int):
    order = np.random.default_rng(seed).permutation(len(texts))[:rows]
    return [texts[i] for i in order], [labels[i] for i in order]


def read(texts, cache: dict, key: str, reader):
    """Probabilities ``(N, 3)`` and vectors ``(N, D)`` of ``texts`` read whole."""
    if key not in cache:
        predictions, vectors = reader(list(texts))
        cache[key] = (probabilities_of(predictions), vectors.astype(np.float32))
    return cache[key]


def load_data(root: Path, split: str, reviewed: int, limit: int, cache_file: Path | None):
    """Per set: the reviewed train rows and the scored rows, with the model's reading."""
    cache: dict = {}
    if cache_file and cache_file.is_file():
        with np.load(cache_file) as saved:
            for name in saved.files:
                key, _, part = name.rpartition("|")
                cache.setdefault(key, [None, None])[part == "v"] = saved[name]
        cache = {key: tuple(value) for key, value in cache.items()}
    reader = None

    def reading(texts, key):
        nonlocal reader
        if key not in cache and reader is None:
            from nlp.tagger import Tagger

            reader = Tagger.default().read_sentences
        return read(texts, cache, key, reader)

    trains = {s.name: s for s in load_split(root, "train")}
    out = []
    for scored in load_split(root, split):
        train = trains[scored.name]
        review_texts, review_gold = sample(train.texts, train.labels, reviewed, 1)
        texts, gold = sample(scored.texts, scored.labels, limit, 2)
        out.append((scored, review_gold, reading(review_texts, f"{scored.name}:train:{reviewed}"),
                    gold, reading(texts, f"{scored.name}:{split}:{limit}")))
    if cache_file:
        np.savez(cache_file, **{f"{key}|{'v' if i else 'p'}": array
                                for key, pair in cache.items() for i, array in enumerate(pair)})
    return out


def corrections(gold, probabilities, vectors, confirmed: bool = False) -> list[LabelledText]:
    """What a user who corrects every wrong label among the reviewed posts leaves behind
    (and, ``confirmed``, who marks the right ones right)."""
    return [LabelledText(p, v, label) for label, p, v in zip(gold, probabilities, vectors,
                                                             strict=True)
            if confirmed or LABELS[int(p.argmax())] != label]


def evaluate(data, pull: float, vector_pull: float, anchor_weight: float,
             confirmed: bool = False) -> dict[str, tuple[dict, dict, int]]:
    """Per set: the model's scores, the adapted scores and how many labels taught it. The
    reviewed posts, unlabelled, are the store's anchors (``nlp.sentiment_adapter.fit``)."""
    out = {}
    for scored, review_gold, (review_p, review_v), gold, (p, v) in data:
        before = [LABELS[i] for i in p.argmax(axis=1)]
        taught = corrections(review_gold, review_p, review_v, confirmed)
        options = {"pull": pull, "vector_pull": vector_pull, "anchors": (review_p, review_v),
                   "anchor_weight": anchor_weight}
        after = before
        if taught:
            adapter = fit(taught, "bench", **options)
            after = [LABELS[i] for i in adapter.adjust_probabilities(p, v).argmax(axis=1)]
        out[scored.name] = (scores(gold, before, scored.classes),
                            scores(gold, after, scored.classes), len(taught))
    return out


def mean_gain(results) -> float:
    return float(np.mean([after["macro_f1"] - before["macro_f1"]
                          for before, after, _ in results.values()]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--reviewed", type=int, default=100)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--pull", type=float, default=PULL)
    parser.add_argument("--vector-pull", type=float, default=VECTOR_PULL)
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--confirmed", action="store_true",
                        help="the user also marks right labels right")
    parser.add_argument("--anchor-weight", type=float, default=ANCHOR_WEIGHT)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args(argv)
    data = load_data(args.data, args.split, args.reviewed, args.limit, args.cache)
    if args.grid:
        print("pull  vector_pull  anchors  mean macro-F1 gain  sets worse")
        for pull, vector_pull, anchors in itertools.product(GRID_PULL, GRID_VECTOR_PULL,
                                                            GRID_ANCHOR_WEIGHT):
            results = evaluate(data, pull, vector_pull, anchors, args.confirmed)
            worse = sum(a["macro_f1"] < b["macro_f1"] for b, a, _ in results.values())
            print(f"{pull:<5} {vector_pull:<12} {anchors:<8} {mean_gain(results):+.4f}  {worse}",
                  flush=True)
        return 0
    results = evaluate(data, args.pull, args.vector_pull, args.anchor_weight,
                       args.confirmed)
    print(f"split {args.split}, {args.reviewed} posts reviewed a set, pull {args.pull}, "
          f"vector pull {args.vector_pull}, anchor weight {args.anchor_weight}, "
          f"{'all labelled' if args.confirmed else 'wrong ones corrected'}")
    print(f"{'set':42} {'rows':>5} {'fixes':>5}  macro-F1 model → adapted   F1(pos,neg)")
    for name, (before, after, taught) in results.items():
        print(f"{name:42} {before['n']:5} {taught:5}  {before['macro_f1']:.3f} → "
              f"{after['macro_f1']:.3f}          {before['f1_pos_neg']:.3f} → "
              f"{after['f1_pos_neg']:.3f}")
    print(f"mean macro-F1 gain {mean_gain(results):+.4f}; sets improved "
          f"{sum(a['macro_f1'] > b['macro_f1'] for b, a, _ in results.values())}, worse "
          f"{sum(a['macro_f1'] < b['macro_f1'] for b, a, _ in results.values())} "
          f"of {len(results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
