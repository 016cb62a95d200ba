"""Touchpoints on labelled complaint sets: cue words, cues + semantic match, the learned
model, and the learned model after people label its review queue.

    .venv/bin/python bench/touchpoint_eval.py /work/shared/data/complaints
        [--sets banking77,...] [--split test] [--corpus 2000] [--limit N]
        [--thresholds 0.3,0.5] [--cache DIR] [--json OUT]

Each set has a catalogue written from its category names only and a map of categories to
touchpoints (``bench/touchpoints/<set>.yaml`` and ``.map.yaml``). The learned model is fitted
as ``otklik tag`` fits it: on the catalogue and a sample of the set's ``train`` texts (their
labels unused); "after corrections" answers its review queue (10 sentences per touchpoint)
with the touchpoint of the row each sentence comes from, refits and scores again. Scored on
``--split``: the top touchpoint of each post (its most confident hit) against the category's
touchpoint; macro-F1 over the touchpoints, accuracy, and the share of posts with a touchpoint
that get none.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from config.catalogue import load_catalogue  # noqa: E402
from nlp.analysis import (  # noqa: E402
    add_learned_touchpoints,
    add_semantic_touchpoints,
    analyze_texts,
    units_of,
)
from nlp.language import detect_language  # noqa: E402
from nlp.touchpoint_fit import NONE, HumanLabel, fit_touchpoints  # noqa: E402
from nlp.touchpoint_learning import read_corpus, review_items  # noqa: E402

SETS = ("banking77", "bitext_customer_support_requests", "gazprombank_reviews_ru")
CATALOGUES = ROOT / "bench" / "touchpoints"
NO_TOUCHPOINT = "(none)"


class CachedReader:
    """The tagger's reader, remembering vectors in ``path`` (an ``.npz``) across runs."""

    gives_vectors = True

    def __init__(self, reader, path: Path | None):
        self.reader, self.path, self.seen = reader, path, {}
        if path and path.exists():
            with np.load(path) as data:
                self.seen = dict(zip(json.loads(str(data["texts"])), data["vectors"],
                                     strict=True))

    def vectors(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.reader.vectors(new), strict=True))
            if self.path:
                np.savez(self.path, texts=json.dumps(list(self.seen)),
                         vectors=np.array(list(self.seen.values())))
        return np.array([self.seen[t] for t in texts], dtype=np.float32)

    def read(self, texts):
        return [None] * len(texts), self.vectors(texts)


def read_rows(path: Path, limit: int, seed: int = 13) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if limit and len(rows) > limit:
        rows = random.Random(seed).sample(rows, limit)
    return rows


def top_touchpoints(analyses) -> list[str]:
    """Each post's most confident touchpoint hit, or ``NO_TOUCHPOINT``."""
    out = []
    for analysis in analyses:
        hits = analysis.of_kind("touchpoint")
        out.append(max(hits, key=lambda h: h.confidence).key if hits else NO_TOUCHPOINT)
    return out


def score(gold: list[str | None], predicted: list[str], keys: list[str]) -> dict:
    """Macro-F1 over the touchpoints, accuracy, and the share of posts with no touchpoint."""
    truth = [g or NO_TOUCHPOINT for g in gold]
    named = [p for g, p in zip(gold, predicted, strict=True) if g]
    return {"macro_f1": round(f1_score(truth, predicted, labels=keys, average="macro",
                                       zero_division=0), 3),
            "accuracy": round(sum(t == p for t, p in zip(truth, predicted, strict=True))
                              / len(truth), 3),
            "no_touchpoint": round(sum(p == NO_TOUCHPOINT for p in named) / max(1, len(named)),
                                   3)}


def evaluate_set(name: str, data: Path, args, tagger_for) -> dict:
    catalogue_path = CATALOGUES / f"{name}.yaml"
    catalogue = load_catalogue(catalogue_path)
    mapping = yaml.safe_load((CATALOGUES / f"{name}.map.yaml").read_text(encoding="utf-8"))
    keys = [t.id for t in catalogue.touchpoints]
    labels = {t.id: t.name for t in catalogue.touchpoints}
    tagger = tagger_for(catalogue_path)
    tagger.reader = CachedReader(tagger.reader, args.cache / f"{name}.npz" if args.cache else None)
    rows = read_rows(data / name / f"{args.split}.jsonl", args.limit)
    gold = [mapping[row["category"]] for row in rows]
    corpus_rows = read_rows(data / name / "train.jsonl", args.corpus)
    results, started = {}, time.perf_counter()

    corpus = [(str(i), row["text"]) for i, row in enumerate(corpus_rows)]
    sentences, owners, corpus_vectors = read_corpus(tagger, corpus)
    analyses = analyze_texts([(row["text"], detect_language(row["text"]).language)
                              for row in rows], catalogue)
    flat = [unit.text for analysis in analyses for unit in units_of(analysis)]
    vectors = tagger.sentence_vectors(flat)
    read_s = time.perf_counter() - started

    results["cues"] = score(gold, top_touchpoints(analyses), keys)
    if args.semantic:
        from nlp.embeddings import Encoder
        from nlp.touchpoints import SemanticTouchpoints

        semantic = SemanticTouchpoints(catalogue, Encoder())
        results["cues + semantic"] = score(
            gold, top_touchpoints(add_semantic_touchpoints(analyses, semantic)), keys)

    embed = tagger.sentence_vectors
    fit_start = time.perf_counter()
    model = fit_touchpoints(catalogue, embed, sentences, corpus_vectors, [], "bench",
                            threshold=args.thresholds[0])
    fit_s = time.perf_counter() - fit_start
    queue = review_items(model, sentences, owners, corpus_vectors, set())
    truth = {str(i): mapping[row["category"]] for i, row in enumerate(corpus_rows)}
    answers = [HumanLabel(text, truth[mention] or NONE) for mention, _, text, _, _ in queue]
    corrected = fit_touchpoints(catalogue, embed, sentences, corpus_vectors, answers, "bench",
                                threshold=args.thresholds[0])
    for threshold in args.thresholds:
        suffix = f" @{threshold}" if len(args.thresholds) > 1 else ""
        for method, fitted in (("learned", model),
                               (f"learned + {len(answers)} labels", corrected)):
            fitted.threshold = threshold
            results[method + suffix] = score(gold, top_touchpoints(
                add_learned_touchpoints(analyses, vectors, fitted, labels)), keys)
    return {"set": name, "rows": len(rows), "corpus_posts": len(corpus_rows),
            "corpus_sentences": len(sentences), "touchpoints": len(keys),
            "read_s": round(read_s, 1), "fit_s": round(fit_s, 1), "scores": results}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="the folder of <set>/{train,dev,test}.jsonl")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--corpus", type=int, default=2000, help="train texts to fit on")
    parser.add_argument("--limit", type=int, default=0, help="score only N rows of a set")
    parser.add_argument("--thresholds", default=None,
                        help="comma-separated probability thresholds to score (default: the "
                             "shipped one)")
    parser.add_argument("--cache", type=Path, help="a folder keeping sentence vectors")
    parser.add_argument("--no-semantic", dest="semantic", action="store_false")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from nlp.tagger import Tagger
    from nlp.touchpoint_model import THRESHOLD

    args.thresholds = ([float(t) for t in args.thresholds.split(",")] if args.thresholds
                       else [THRESHOLD])
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    report = [evaluate_set(name, args.data, args, Tagger.default)
              for name in args.sets.split(",")]
    for entry in report:
        print(f"\n{entry['set']}: {entry['rows']} posts, {entry['touchpoints']} touchpoints, "
              f"fitted on {entry['corpus_sentences']} sentences of {entry['corpus_posts']} "
              f"train posts in {entry['fit_s']} s")
        print(f"  {'method':<30} {'macro-F1':>8} {'accuracy':>8} {'no touchpoint':>13}")
        for method, figures in entry["scores"].items():
            print(f"  {method:<30} {figures['macro_f1']:>8} {figures['accuracy']:>8} "
                  f"{figures['no_touchpoint']:>13.1%}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
