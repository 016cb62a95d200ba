"""Intent signals: recommendation, churn, question, comparison, answer to another customer.

Cues live in ``nlp/patterns/intents.yaml`` (format described there); the ``otklik_intents``
component matches them after ``otklik_brands`` so that cues can need a brand after them and
churn can name its target. Every language's cues run in every pipeline: posts mix languages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from nlp.components import Hit, doc_hits, longest_first, phrase_doc, sentence_index, span_hit

DEFAULT_PATTERNS = Path(__file__).resolve().parent / "patterns" / "intents.yaml"
BRAND_KINDS = ("brand", "product", "competitor")
BRAND_WINDOW = 3
CUE_KINDS = ("lemmas", "words", "tokens")
RULES = ("question_mark", "brand_pair")


@dataclass(frozen=True)
class Cue:
    intent: str
    lang: str
    text: str
    brand_after: bool
    confidence: float


def load_intents(path: str | Path = DEFAULT_PATTERNS) -> dict[str, dict[str, Any]]:
    """Read and check the intent patterns file; errors name the intent and the bad value."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a mapping of intents")
    for name, spec in data.items():
        where = f"{path}: intent {name!r}"
        if not isinstance(spec, dict) or not isinstance(spec.get("cues"), dict):
            raise ValueError(f"{where}: needs 'label' and 'cues' (a mapping of language → list)")
        if spec.get("rule") not in (None, *RULES):
            raise ValueError(f"{where}: rule {spec['rule']!r} is not one of {', '.join(RULES)}")
        for lang, cues in spec["cues"].items():
            for item in cues:
                if isinstance(item, dict) and len(set(item) & set(CUE_KINDS)) != 1:
                    raise ValueError(f"{where}.{lang}: cue {item!r} needs exactly one of "
                                     f"{', '.join(CUE_KINDS)}")
    return data


def brand_of(hit: Hit) -> str:
    """The brand id of a brand, competitor or product hit."""
    return hit.extra.get("brand", hit.key)


class IntentMatcher:
    """Finds intent cues and applies the intents' rules; hits go to ``doc._.otklik_hits``."""

    def __init__(self, nlp: Language, patterns_path: str | Path = DEFAULT_PATTERNS):
        self.nlp = nlp
        self.spec = load_intents(patterns_path or DEFAULT_PATTERNS)
        self.ready = False

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        nlp = nlp or self.nlp
        self.cues: list[Cue] = []
        self.matchers = {"lemmas": PhraseMatcher(nlp.vocab, attr="LEMMA"),
                         "words": PhraseMatcher(nlp.vocab, attr="LOWER"),
                         "tokens": Matcher(nlp.vocab, validate=True)}
        self.question_words: dict[str, frozenset[str]] = {}
        for intent, spec in self.spec.items():
            for lang in sorted(spec["cues"]):
                for item in spec["cues"][lang]:
                    item = item if isinstance(item, dict) else {"lemmas": item}
                    kind = next(k for k in CUE_KINDS if k in item)
                    key = str(len(self.cues))
                    confidence = float(item.get("confidence", spec.get("confidence", 0.8)))
                    text = "" if kind == "tokens" else str(item[kind])
                    self.cues.append(Cue(intent, lang, text,
                                         bool(item.get("brand_after")), confidence))
                    if kind == "tokens":
                        self.matchers["tokens"].add(key, [item["tokens"]])
                    elif kind == "words":
                        self.matchers["words"].add(key, [nlp.make_doc(item["words"])])
                    else:
                        self.matchers["lemmas"].add(key, [phrase_doc(nlp, item["lemmas"])])
            words = [w for ws in spec.get("question_words", {}).values() for w in ws]
            self.question_words[intent] = frozenset(
                token.lemma_ for w in words for token in phrase_doc(nlp, w)) | frozenset(words)
        self.ready = True

    def __call__(self, doc: Doc) -> Doc:
        if not self.ready:
            self.initialize()
        sentences = sentence_index(doc)
        brands = [(doc.char_span(h.start, h.end), h)
                  for h in sorted(doc_hits(doc), key=lambda h: (h.start, h.end))
                  if h.kind in BRAND_KINDS]
        found: dict[str, list[tuple[int, int, Cue]]] = defaultdict(list)
        for matcher in self.matchers.values():
            for match_id, start, end in matcher(doc):
                cue = self.cues[int(self.nlp.vocab.strings[match_id])]
                span = self._accept(doc[start:end], cue, brands)
                if span is not None:
                    found[cue.intent].append((span.start, span.end, cue))
        hits: list[Hit] = []
        for intent, spec in self.spec.items():
            covered = set()
            for start, end, cue in longest_first(found[intent]):
                covered.add(sentences[start])
                hits.append(self._cue_hit(doc[start:end], cue, spec, brands, sentences[start]))
            for n, sent in enumerate(doc.sents):
                if n not in covered:
                    hit = self._rule_hit(sent, n, intent, spec, brands)
                    if hit is not None:
                        hits.append(hit)
        doc_hits(doc).extend(hits)
        return doc

    def _accept(self, span: Span, cue: Cue, brands) -> Span | None:
        """``span`` (extended over a following brand if the cue needs one) or None."""
        spec = self.spec[cue.intent]
        sent = span.sent
        before = span.doc[max(sent.start, span.start - 2) : span.start]
        if any(token.lower_ in spec.get("negations", ()) for token in before):
            return None
        if spec.get("skip_questions") and "?" in sent.text:
            return None
        if not cue.brand_after:
            return span
        for brand, _ in brands:
            if span.end <= brand.start <= span.end + BRAND_WINDOW and brand.end <= sent.end:
                return span.doc[span.start : brand.end]
        return None

    def _cue_hit(self, span: Span, cue: Cue, spec, brands, sentence: int) -> Hit:
        extra: dict[str, Any] = {"cue": cue.text or span.text.lower(), "lang": cue.lang}
        confidence = cue.confidence
        in_sentence = [(b, h) for b, h in brands if b.sent.start == span.sent.start]
        if spec.get("target"):
            extra.update(_churn_target(span, in_sentence, spec.get("from_words", ())))
            if extra.get("target") and not extra.get("target_own"):
                confidence = max(confidence, 0.9)
        if spec.get("rule") == "brand_pair":
            pair = _brand_pair(in_sentence)
            if pair:
                extra.update(own=brand_of(pair[0]), competitor=brand_of(pair[1]))
                confidence = min(0.95, confidence + 0.1)
        return span_hit(span, sentence, "intent", cue.intent, spec["label"], "cue", confidence,
                        **extra)

    def _rule_hit(self, sent: Span, n: int, intent: str, spec, brands) -> Hit | None:
        rule = spec.get("rule")
        if rule == "question_mark":
            return _question(sent, n, intent, spec["label"], self.question_words[intent])
        if rule == "brand_pair":
            pair = _brand_pair([(b, h) for b, h in brands if b.sent.start == sent.start])
            if pair:
                own, rival = pair
                start, end = min(own.start, rival.start), max(own.end, rival.end)
                return span_hit(sent.doc.char_span(start, end), n, "intent", intent,
                                spec["label"], "brand-pair", 0.6, own=brand_of(own),
                                competitor=brand_of(rival))
        return None


def _churn_target(span: Span, in_sentence, from_words) -> dict[str, Any]:
    """Where the customer goes (``target``) and what they leave (``from``).

    A brand at most two words after a from-word ("от", "со своей", "від", "from", "with") is
    left; the target is the first other brand after the cue, else the first other competitor
    in the sentence.
    """
    doc = span.doc
    left = [h for b, h in in_sentence
            if any(t.lower_ in from_words for t in doc[max(0, b.start - 2) : b.start])]
    others = [(b, h) for b, h in in_sentence if h not in left]
    after = [h for b, h in others if b.start >= span.start]
    rivals = [h for _, h in others if not h.extra.get("own")]
    extra: dict[str, Any] = {}
    target = after[0] if after else rivals[0] if rivals else None
    if target is not None:
        extra.update(target=brand_of(target), target_text=target.evidence,
                     target_own=bool(target.extra.get("own")))
        if target.kind == "product":
            extra["target_product"] = target.key
    if left:
        extra["from"] = brand_of(left[0])
    return extra


def _brand_pair(in_sentence) -> tuple[Hit, Hit] | None:
    """The first own-brand hit and the first competitor hit of a sentence, if both exist."""
    own = [h for _, h in in_sentence if h.extra.get("own")]
    rivals = [h for _, h in in_sentence if not h.extra.get("own")]
    return (own[0], rivals[0]) if own and rivals else None


def _question(sent: Span, n: int, intent: str, label: str, words: frozenset[str]) -> Hit | None:
    """A question mark, evidence from the first question word (or the sentence start) to it."""
    marks = [token for token in sent if "?" in token.text]
    if not marks:
        return None
    mark = marks[-1]
    asked = [t for t in sent if t.i < mark.i and (t.lower_ in words or t.lemma_ in words)]
    if asked:
        return span_hit(sent.doc[asked[0].i : mark.i + 1], n, "intent", intent, label,
                        "question-word", 0.8, word=asked[0].text)
    first = next(t for t in sent if not t.is_space)
    return span_hit(sent.doc[first.i : mark.i + 1], n, "intent", intent, label,
                    "question-mark", 0.55)


@Language.factory("otklik_intents", default_config={"patterns_path": str(DEFAULT_PATTERNS)})
def make_intent_matcher(nlp: Language, name: str, patterns_path: str) -> IntentMatcher:
    return IntentMatcher(nlp, patterns_path)
