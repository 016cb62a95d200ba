"""Sentiment accuracy on labelled JSONL sets: macro-F1, per-class F1, macro-recall and the
confusion matrix per set and per language, and the project's goals.

    .venv/bin/python bench/sentiment_eval.py /work/shared/data/sentiment
        [--split test] [--model DIR|NAME --labels 0=negative,1=neutral,2=positive]
        [--precisions config,fp32,int8,bf16] [--reference DIR ...] [--json OUT]

The folder holds ``<lang>/<set>/{train,dev,test}.jsonl``. Without ``--model`` the model of
``data/nlp.yaml`` is scored, at the precision it configures (``config``) or at each of
``--precisions`` (the first one is checked against the goals; the others are compared with
it). ``--reference`` scores other models (e.g. ones trained on one language with
``models/train_sentiment.py --langs ru``) on their languages' sets, at the first precision,
and compares the mean macro-F1 per language.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from models.train_sentiment import (  # noqa: E402
    LABELS,
    apply_caps,
    load_split,
    scores,
    summarise,
)
from nlp.model_config import SentimentSettings, load_nlp_config  # noqa: E402
from nlp.stance import SHORT_POST_CHARS  # noqa: E402

# (set, measure, threshold): the goals on the test split
GOALS = (
    ("ru/rusentiment", "macro_f1", 0.72),
    ("ru/sentirueval2015_tkk", "f1_pos_neg", 0.70),
    ("ru/sentirueval2015_banks", "f1_pos_neg", 0.70),
    ("en/tweeteval_sentiment", "macro_recall", 0.70),
    ("uk/hotline_store_reviews_uk", "f1_pos_neg", 0.90),
)
PRECISIONS = ("config", "fp32", "int8", "bf16")
LANGUAGE_GAP = 0.05  # no language more than this below a model trained on it alone


def score_model(settings: SentimentSettings, splits, batch_size: int = 64) -> dict:
    """Load the model ``settings`` names and score it on every split."""
    from nlp.sentiment import SentimentModel

    start = time.perf_counter()
    model = SentimentModel.load(settings)
    loaded = time.perf_counter()
    per_set = {}
    for s in splits:
        pred = [p.label for p in model.predict(s.texts, batch_size)]
        per_set[s.name] = scores(s.labels, pred, s.classes)
    rows = sum(len(s.texts) for s in splits)
    seconds = time.perf_counter() - loaded
    return {"model": str(settings.model), "version": model.version,
            "precision": model.precision, "sets": per_set,
            "languages": summarise(per_set, {s.name: s.lang for s in splits}),
            "load_s": round(loaded - start, 1), "predict_s": round(seconds, 1),
            "rows_per_s": round(rows / seconds, 1)}


def score_tagger(splits, batch_size: int = 64,
                 short_chars: Sequence[int] = (SHORT_POST_CHARS,)) -> dict[int, dict]:
    """The document label ``otklik tag`` writes (a post of at most ``short`` characters takes
    its whole text's sentiment, a longer one the mean of its whole text's and its
    sentences'), per set, for each ``short`` of ``short_chars``: the same measures as
    ``score_model``. Each post is read once."""
    from nlp.language import detect_language
    from nlp.stance import mention_sentiment
    from nlp.tagger import Tagger

    tagger = Tagger.default()
    start = time.perf_counter()
    per_set: dict[int, dict] = {short: {} for short in short_chars}
    for s in splits:
        pred: dict[int, list[str]] = {short: [] for short in short_chars}
        for at in range(0, len(s.texts), batch_size):
            texts = s.texts[at:at + batch_size]
            reading = tagger.read(texts, [detect_language(text).language for text in texts])
            for i, analysis in enumerate(reading.analyses):
                sentences = reading.predictions[reading.span(i)]
                for short in short_chars:
                    pred[short].append(mention_sentiment(analysis, sentences,
                                                         reading.wholes.get(i), short).label)
        for short in short_chars:
            per_set[short][s.name] = scores(s.labels, pred[short], s.classes)
    rows = sum(len(s.texts) for s in splits)
    seconds = time.perf_counter() - start
    return {short: {"model": f"otklik tag (document label, short posts <= {short} chars)",
                    "version": tagger.version, "precision": "config", "sets": sets,
                    "languages": summarise(sets, {s.name: s.lang for s in splits}),
                    "load_s": 0.0, "predict_s": round(seconds, 1),
                    "rows_per_s": round(rows / seconds, 1)}
            for short, sets in per_set.items()}


def print_document_comparison(predict: dict, tagger: dict) -> None:
    """``predict`` on whole texts against the tagger's document label, set by set, and how
    many sets the tagger loses."""
    print(f"\n{'set':38} {'predict: macroF1  F1pn  F1neu':>30} "
          f"{'tagger: macroF1  F1pn  F1neu':>30}")
    gaps = []
    for name, ours in tagger["sets"].items():
        whole = predict["sets"][name]
        gaps.append(ours["macro_f1"] - whole["macro_f1"])
        cells = [_cell(r[k]) for r in (whole, ours)
                 for k in ("macro_f1", "f1_pos_neg")]
        neutral = [_cell(r["f1"]["neutral"]) for r in (whole, ours)]
        print(f"{name:38} {cells[0]:>16} {cells[1]} {neutral[0]} "
              f"{cells[2]:>16} {cells[3]} {neutral[1]}")
    below = [gap for gap in gaps if gap < 0]
    print(f"{tagger['model']}: mean macro-F1 minus predict's {sum(gaps) / len(gaps):+.4f}; "
          f"below predict on {len(below)} of {len(gaps)} sets"
          + (f" (at worst {min(below):+.4f})" if below else ""))


def _cell(value) -> str:
    return "   –  " if value is None else f"{value:6.3f}"


def print_result(result: dict, title: str) -> None:
    print(f"\n== {title}: {result['model']} ({result['version']}), "
          f"{result['rows_per_s']} rows/s")
    print(f"{'set':38} {'rows':>6} {'macroF1':>7} {'F1neg':>6} {'F1neu':>6} {'F1pos':>6} "
          f"{'mRecall':>7} {'F1pn':>6}  confusion (rows gold n/u/p, cols predicted)")
    for name, r in result["sets"].items():
        two = "" if r["classes"] == list(LABELS) else "*"
        cm = " ".join("/".join(str(v) for v in row) for row in r["confusion"])
        print(f"{name:38} {r['n']:6d} {_cell(r['macro_f1'])}{two:1} "
              f"{_cell(r['f1']['negative'])} {_cell(r['f1']['neutral'])} "
              f"{_cell(r['f1']['positive'])} {_cell(r['macro_recall'])}  "
              f"{_cell(r['f1_pos_neg'])}  {cm}")
    print("(* two-class set: macro-F1 and macro-recall over positive and negative)")
    for lang, v in result["languages"].items():
        pooled = scores_from_confusion(v["pooled_confusion"])
        print(f"language {lang}: mean macro-F1 over {v['sets']} sets {v['mean_macro_f1']:.3f}; "
              f"pooled rows: macro-F1 {pooled['macro_f1']:.3f}, macro-recall "
              f"{pooled['macro_recall']:.3f}, confusion {v['pooled_confusion']}")


def scores_from_confusion(cm: list[list[int]]) -> dict:
    gold = [LABELS[g] for g, row in enumerate(cm) for p, n in enumerate(row) for _ in range(n)]
    pred = [LABELS[p] for g, row in enumerate(cm) for p, n in enumerate(row) for _ in range(n)]
    return scores(gold, pred)


def goal_lines(result: dict, references: list[dict]) -> list[tuple[str, float | None, str, bool]]:
    lines = []
    for name, measure, threshold in GOALS:
        value = result["sets"].get(name, {}).get(measure)
        if value is not None:
            lines.append((f"{name} {measure}", value, f">= {threshold}", value >= threshold))
    for ref in references:
        for lang, v in ref["languages"].items():
            ours = result["languages"].get(lang)
            if ours:
                gap = ours["mean_macro_f1"] - v["mean_macro_f1"]
                lines.append((f"{lang}: mean macro-F1 {ours['mean_macro_f1']:.3f} vs "
                              f"{lang}-only model {v['mean_macro_f1']:.3f}, gap", gap,
                              f">= -{LANGUAGE_GAP}", gap >= -LANGUAGE_GAP))
    return lines


def parse_labels(text: str) -> dict[int | str, str]:
    labels = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        key = key.strip()
        labels[int(key) if key.isdigit() else key] = value.strip()
    return labels


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="folder of <lang>/<set>/<split>.jsonl")
    p.add_argument("--split", default="test")
    p.add_argument("--langs", default="", help="comma-separated (default: all)")
    p.add_argument("--model", help="another model: directory or local Hugging Face name")
    p.add_argument("--labels", default=None,
                   help="its label mapping, e.g. 0=negative,1=neutral,2=positive")
    p.add_argument("--precisions", default="config",
                   help="comma-separated: config (as data/nlp.yaml), fp32, int8, bf16")
    p.add_argument("--reference", action="append", default=[], type=Path,
                   help="a model trained on some languages only (its training.json names them)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=0,
                   help="score a seeded sample of at most N rows of each set")
    p.add_argument("--document", action="store_true",
                   help="also score the document label otklik tag writes (whole text and "
                        "sentences), with the configured model")
    p.add_argument("--short-post-chars", default=str(SHORT_POST_CHARS),
                   help="with --document: comma-separated lengths up to which a post takes "
                        "its whole text's sentiment (default: the tagger's)")
    p.add_argument("--json", type=Path, help="write all figures here")
    args = p.parse_args(argv)
    try:
        shorts = [int(value) for value in args.short_post_chars.split(",")]
    except ValueError:
        p.error(f"--short-post-chars: {args.short_post_chars!r} is not a list of numbers")

    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    settings = load_nlp_config().sentiment
    if args.model:
        settings = SentimentSettings(model=args.model, max_length=settings.max_length,
                                     precision=settings.precision)
    if args.labels is not None:
        settings = dataclasses.replace(settings, labels=parse_labels(args.labels))
    langs = args.langs.split(",") if args.langs else None
    splits = load_split(args.data, args.split, langs)
    if args.limit:
        apply_caps(splits, {"*": args.limit}, seed=13)
        splits = [dataclasses.replace(s, texts=[s.texts[i] for i in s.used],
                                      labels=[s.labels[i] for i in s.used]) for s in splits]

    precisions = args.precisions.split(",")
    for name in precisions:
        if name not in PRECISIONS:
            p.error(f"--precisions: {name!r} is not one of {', '.join(PRECISIONS)}")
    runs = []
    for name in precisions:
        precision = settings.precision if name == "config" else name
        runs.append(score_model(dataclasses.replace(settings, precision=precision), splits,
                                args.batch_size))
        print_result(runs[-1], f"{args.split}, precision {runs[-1]['precision']}")
    result = runs[0]
    report = {"split": args.split, "main": result, "other_precisions": runs[1:],
              "references": []}
    for other in runs[1:]:
        print(f"\nmacro-F1 at {other['precision']} minus at {result['precision']} "
              f"({other['rows_per_s']} vs {result['rows_per_s']} rows/s):")
        for name, r in other["sets"].items():
            print(f"  {name:38} {r['macro_f1'] - result['sets'][name]['macro_f1']:+.4f}")
    for ref_dir in args.reference:
        trained = json.loads((ref_dir / "training.json").read_text())["args"].get("langs")
        ref_langs = trained.split(",") if trained else langs
        ref_splits = [s for s in splits if not ref_langs or s.lang in ref_langs]
        ref_settings = dataclasses.replace(settings, model=str(ref_dir.resolve()),
                                           precision=result["precision"])
        ref = score_model(ref_settings, ref_splits, args.batch_size)
        print_result(ref, f"reference, {args.split}")
        report["references"].append(ref)

    if args.document:
        documents = score_tagger(splits, args.batch_size, shorts)
        report["document"] = documents[shorts[0]]
        report["document_by_short_post_chars"] = documents
        for document in documents.values():
            print_result(document, f"{args.split}, the tagger's document label")
            print_document_comparison(result, document)

    print("\ngoals:")
    for what, value, target, ok in goal_lines(result, report["references"]):
        print(f"  {'met ' if ok else 'MISS'} {what} = {value:.3f} ({target})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
