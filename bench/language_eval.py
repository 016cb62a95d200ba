"""Language identification against the ``lang`` labels of labelled JSONL sets: per set and
pooled, the share right and the confusion of ru / uk / en / other, above all ru ↔ uk.

    .venv/bin/python bench/language_eval.py /work/shared/data/sentiment [--split test]

The folder holds ``<lang>/<set>/<split>.jsonl`` with a ``text`` and a ``lang`` per row.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.language import detect_language  # noqa: E402

GUESSES = ("ru", "uk", "en", "other")


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(text, lang)`` of every row of one JSONL split."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                rows.append((row["text"], row["lang"]))
    return rows


def confusion(rows: list[tuple[str, str]]) -> Counter:
    """``(gold, guessed)`` counts."""
    return Counter((lang, detect_language(text).language) for text, lang in rows)


def report(name: str, counts: Counter) -> str:
    total = sum(counts.values())
    right = sum(n for (gold, guess), n in counts.items() if gold == guess)
    cells = "  ".join(f"{gold}→{g}:{counts[(gold, g)]}" for gold in sorted({k[0] for k in counts})
                      for g in GUESSES if counts[(gold, g)] and g != gold)
    return f"{name:40s} {total:6d} {right / total:7.3f}   {cells or '-'}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="folder of <lang>/<set>/<split>.jsonl")
    p.add_argument("--split", default="test")
    args = p.parse_args(argv)
    paths = sorted(args.data.glob(f"*/*/{args.split}.jsonl"))
    if not paths:
        p.error(f"no {args.split}.jsonl under {args.data}")
    start, pooled = time.perf_counter(), Counter()
    print(f"{'set':40s} {'rows':>6s} {'right':>7s}   wrong guesses (gold→guess:n)")
    for path in paths:
        counts = confusion(read_rows(path))
        pooled += counts
        print(report(f"{path.parent.parent.name}/{path.parent.name}", counts))
    print(report("all", pooled))
    for gold in ("ru", "uk", "en"):
        n = sum(v for (g, _), v in pooled.items() if g == gold)
        if n:
            print(f"{gold}: " + ", ".join(f"{guess} {pooled[(gold, guess)] / n:.2%}"
                                          for guess in GUESSES))
    rows = sum(pooled.values())
    print(f"{rows} rows in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
