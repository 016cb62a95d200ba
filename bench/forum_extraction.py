"""Forum extraction per engine version and style, with the engine selectors on and off.

    .venv/bin/python bench/forum_extraction.py [STYLE ...]

Reads the two-page topic of every style in tests/fixtures/engines (pages written from each
engine's own templates) as the crawler does, following the pages' own next links, and
scores it against the style's expected.yaml: posts found, authors right, dates right
(within a minute), own text right (start and end of the author's words, no quoted text,
signature or UI label in them), quotes right. "selectors on" is the crawler's reading (the
detected engine's selectors where they fit, else the structure); "off" is the structural
extractor alone.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from engine_fixtures import expected, read_style, score, styles  # noqa: E402

COLUMNS = ("found", "authors", "dates", "texts", "quotes", "right")


def main(argv: list[str] | None = None) -> int:
    chosen = (argv if argv is not None else sys.argv[1:]) or styles()
    totals = {mode: dict.fromkeys((*COLUMNS, "expected"), 0) for mode in ("on", "off")}
    print(f"{'style':20} {'engine':10} {'sel':4} " + " ".join(f"{c:>7}" for c in COLUMNS)
          + "  strategies")
    started = time.perf_counter()
    for style in chosen:
        for mode, use_selectors in (("on", True), ("off", False)):
            posts, strategies = read_style(style, use_selectors)
            result = score(style, posts)
            cells = " ".join(f"{getattr(result, c):>3}/{result.expected:<3}" for c in COLUMNS)
            print(f"{style:20} {expected(style)['engine']:10} {mode:4} {cells}  "
                  f"{','.join(sorted(set(strategies)))}")
            for column in COLUMNS:
                totals[mode][column] += getattr(result, column)
            totals[mode]["expected"] += result.expected
    for mode, total in totals.items():
        share = total["right"] / total["expected"] if total["expected"] else 0.0
        print(f"selectors {mode}: {total['right']}/{total['expected']} posts right "
              f"({share:.1%}); found {total['found']}, authors {total['authors']}, dates "
              f"{total['dates']}, own text {total['texts']}, quotes {total['quotes']}")
    print(f"{len(chosen)} styles read twice in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
