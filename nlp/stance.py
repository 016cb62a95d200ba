"""From sentence sentiments to a mention's sentiment and each brand's or touchpoint's.

Long posts are scored sentence by sentence and aggregated; a brand or touchpoint takes the
sentiment of the sentences that name it. A churn sentence splits: "ушёл от МТС к Билайну,
доволен" is negative for the brand left and positive for the one chosen. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from nlp.analysis import TextAnalysis

LABELS = ("negative", "neutral", "positive")
STANCE_KINDS = ("brand", "product", "competitor", "touchpoint")
# A post of several sentences is also read whole. Up to this length its whole-text label is
# the post's; past it, the mean of the whole text's and the sentences' probabilities. On the
# dev splits (1,858 posts of several sentences, macro-F1 whole / sentences / mean of both):
# ≤ 200 chars 0.729 / 0.675 / 0.722; 200–400: 0.682 / 0.627 / 0.695; 400–800: 0.722 / 0.580 /
# 0.748; longer: 0.510 / 0.452 / 0.506 (the whole text is cut at 256 tokens).
SHORT_POST_CHARS = 200


@dataclass(frozen=True)
class Overall:
    label: str
    score: float
    evidence: dict


def mention_sentiment(analysis: TextAnalysis, per_sentence: list, whole=None,
                      short_chars: int = SHORT_POST_CHARS) -> Overall:
    """The post's sentiment from its sentences' probabilities (averaged, weighted by length)
    and, when it was read whole too (``whole``), its whole text's: a post of at most
    ``short_chars`` characters takes its whole text's, a longer one the mean of both. The
    evidence names the sentences that carry the verdict."""
    texts = [s.text for s in analysis.sentences] or [analysis.text]
    weights = [max(1, len(text)) for text in texts]
    total = sum(weights)
    mean = {label: sum(w * p.scores[label] for w, p in zip(weights, per_sentence, strict=True))
            / total for label in LABELS}
    if whole is not None:
        short = len(analysis.text) <= short_chars
        mean = {label: whole.scores[label] if short else (whole.scores[label] + mean[label]) / 2
                for label in LABELS}
    label = max(LABELS, key=lambda name: mean[name])
    carrying = sorted(
        ((i, p) for i, p in enumerate(per_sentence) if p.label == label),
        key=lambda item: -item[1].score,
    )[:3]
    evidence = {"sentences": [{"index": i, "text": texts[i], "label": p.label,
                               "score": round(p.score, 3)} for i, p in carrying]}
    return Overall(label, round(mean[label], 4), evidence)


def hit_sentiments(analysis: TextAnalysis, per_sentence: list) -> dict[int, str]:
    """Sentiment per hit index, for brand, product, competitor and touchpoint hits."""
    churn = {hit.sentence: hit.extra for hit in analysis.of_kind("intent")
             if hit.key == "churn" and hit.extra.get("target")}
    stances = {}
    for index, hit in enumerate(analysis.hits):
        if hit.kind not in STANCE_KINDS or hit.sentence >= len(per_sentence):
            continue
        label = per_sentence[hit.sentence].label
        moves = churn.get(hit.sentence)
        if moves and hit.kind != "touchpoint":
            brand = hit.extra.get("brand", hit.key)
            if brand == moves["target"]:
                label = label if label != "negative" else "neutral"
            elif brand == moves.get("from") or (hit.extra.get("own") and not moves.get(
                    "target_own")):
                label = "negative"
        stances[index] = label
    return stances
