"""Russian ↔ Ukrainian confusion on short posts, with and without a brand name in the other
language, for each fastText score under which the ru / uk letter vote decides.

    .venv/bin/python bench/language_id.py --data ../shared/data/sentiment

Rows: the ``ru`` and ``uk`` sets of ``<lang>/<set>/<split>.jsonl``, each text cut to its first
sentence and at most 80 characters. "Mixed" posts are the same rows with a brand name
written in the other language's letters put before or after the text ("Київстар, опять не
работает"; "Пятёрочка знову підняла ціни"). The threshold is chosen on train + dev (the
best mean share right over the four groups ru / uk × plain / mixed); the test figures are
printed for the letter vote always deciding (``always``), for the chosen threshold, and
for the threshold ``nlp.language`` ships.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.language import VOTE_BELOW, detect_language  # noqa: E402

LANGUAGES = ("ru", "uk")
# names with a letter only the brand's own language has (ї і / ы э ё)
OTHER_NAMES = {
    "ru": ("Київстар", "Епіцентр", "Сільпо", "Дія", "Укрзалізниця", "Фоззі"),
    "uk": ("Связной", "Эльдорадо", "Пятёрочка", "Вымпелком", "Быстробанк", "Эвотор"),
}
ALWAYS = 2.0  # above any score: the letter vote always decides (the old rule)
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, ALWAYS)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s")
MAX_CHARS = 80
CHOOSE_ROWS = 4000  # per language, sampled from train + dev


def short(text: str) -> str:
    """The first sentence of ``text``, cut at a word boundary to at most 80 characters."""
    first = SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0]
    if len(first) <= MAX_CHARS:
        return first
    cut = first[:MAX_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def read_short(data: Path, splits: tuple[str, ...]) -> dict[str, list[str]]:
    """Short texts per language from the given splits of every ru and uk set."""
    texts: dict[str, list[str]] = {lang: [] for lang in LANGUAGES}
    for lang in LANGUAGES:
        for split in splits:
            for path in sorted(data.glob(f"{lang}/*/{split}.jsonl")):
                with path.open(encoding="utf-8") as fh:
                    for line in fh:
                        if line.strip():
                            row = json.loads(line)
                            if row["lang"] == lang and (text := short(row["text"])):
                                texts[lang].append(text)
    return texts


def mixed(texts: list[str], lang: str, rng: random.Random) -> list[str]:
    """Each text with a brand name of the other language before or after it."""
    names = OTHER_NAMES[lang]
    return [f"{rng.choice(names)}, {text}" if rng.random() < 0.5
            else f"{text} {rng.choice(names)}" for text in texts]


def groups(texts: dict[str, list[str]], seed: int = 13) -> dict[tuple[str, str], list[str]]:
    """``(language, "plain" | "mixed")`` → texts."""
    rng = random.Random(seed)
    found = {}
    for lang in LANGUAGES:
        found[(lang, "plain")] = texts[lang]
        found[(lang, "mixed")] = mixed(texts[lang], lang, rng)
    return found


def score(found: dict[tuple[str, str], list[str]], vote_below: float) -> dict:
    """Per group: rows, share right, and how many went to the other of ru / uk."""
    result = {}
    for (lang, kind), texts in found.items():
        guesses = Counter(detect_language(text, vote_below).language for text in texts)
        other = "uk" if lang == "ru" else "ru"
        result[(lang, kind)] = (len(texts), guesses[lang] / len(texts), guesses[other])
    return result


def mean_right(result: dict) -> float:
    return sum(right for _, right, _ in result.values()) / len(result)


def line(name: str, result: dict) -> str:
    cells = "  ".join(f"{lang}-{kind} {right:6.2%} ({wrong:4d} → {'uk' if lang == 'ru' else 'ru'})"
                      for (lang, kind), (_, right, wrong) in result.items())
    plain = sum(r for (_, kind), (_, r, _) in result.items() if kind == "plain") / 2
    return f"{name:>8s}  mean {mean_right(result):6.2%} (plain {plain:6.2%})  {cells}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True,
                   help="folder of <lang>/<set>/<split>.jsonl (the sentiment sets)")
    args = p.parse_args(argv)
    rng = random.Random(7)
    choose = read_short(args.data, ("train", "dev"))
    if not all(choose.values()):
        p.error(f"no ru and uk train/dev rows under {args.data}")
    choose = {lang: rng.sample(texts, min(CHOOSE_ROWS, len(texts)))
              for lang, texts in choose.items()}
    print(f"choosing on train + dev: {', '.join(f'{k} {len(v)}' for k, v in choose.items())}"
          " short posts, each plain and mixed")
    found = groups(choose)
    tried = {}
    for threshold in THRESHOLDS:
        tried[threshold] = score(found, threshold)
        print(line("always" if threshold == ALWAYS else f"{threshold:.2f}", tried[threshold]))
    best = max(THRESHOLDS, key=lambda t: (round(mean_right(tried[t]), 4), -t))
    print(f"best on train + dev: vote below {best:.2f}; nlp.language ships {VOTE_BELOW:.2f}")
    test = groups(read_short(args.data, ("test",)))
    print("test: " + ", ".join(f"{lang}-{kind} {len(texts)}"
                               for (lang, kind), texts in test.items()))
    for threshold in dict.fromkeys((ALWAYS, best, VOTE_BELOW)):
        print(line("always" if threshold == ALWAYS else f"{threshold:.2f}",
                   score(test, threshold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
