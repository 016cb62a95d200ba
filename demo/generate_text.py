"""Customer-like texts for the demo community: templates + slot fillers + per-author quirks.

The phrases live in ``demo/templates/{ru,uk,en}.yaml`` (format described in ``en.yaml``);
this module only picks, fills and roughens them. Everything random goes through the
``random.Random`` handed in, so a seed gives the same texts.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from crawlers.dedup import band_keys, signature, similarity

TEMPLATES = Path(__file__).with_name("templates")
LANGS = ("ru", "uk", "en")
NEAR = 0.5  # below the crawl's cross-post threshold (0.6), so no post reads as a copy
GROUPS = ("mobile", "home", "tv", "app")
PRODUCT_GROUP = {"volna-mobile": "mobile", "volna-home": "home", "volna-tv": "tv",
                 "volna-app": "app", "telenova-mobile": "mobile", "telenova-home": "home"}
SLOT = re.compile(r"\{([A-Za-z_]+)(?:\.([a-z]+))?\}")
CHOICE = re.compile(r"\{([^{}|]*(?:\|[^{}|]*)+)\}")  # {a|b|c}: one of them, maybe empty
TAGGED = re.compile(rf"^((?:{'|'.join(GROUPS)})(?:,(?:{'|'.join(GROUPS)}))*): (.+)$", re.S)
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
PROPER = re.compile(r"(?:Волн|Вольн|Volna|Теленов|Telenova|Моя|My |Мій|I\b|I'|iPhone|Samsung|"
                    r"Pixel|Redmi|Moto|Discovery|APN|eSIM|Wi-Fi|QR|SMS|TP-Link|Face|[A-ZА-Я]{2})")
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
TRANSLIT = dict(zip("абвгґдеёєжзиіїйклмнопрстуфхцчшщъыьэюя",
                    ["a", "b", "v", "g", "g", "d", "e", "e", "ye", "zh", "z", "i", "i", "yi",
                     "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f", "kh", "ts",
                     "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))


def latin(text: str) -> str:
    """Cyrillic letters spelt in Latin ones (lower case), as in URL slugs and handles."""
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower())


@dataclass(frozen=True)
class Template:
    """A phrase and the product groups it fits (``None``: any)."""

    text: str
    groups: frozenset[str] | None = None

    def fits(self, group: str | None) -> bool:
        return self.groups is None or group in self.groups


@dataclass(frozen=True)
class Style:
    """An author's writing habits; rates are chances per post (``typos`` per word)."""

    lower: bool = False
    no_period: bool = False
    brackets: bool = False
    exclaim: bool = False
    ellipsis: bool = False
    caps: float = 0.0
    emoji: float = 0.1
    typos: float = 0.0
    slang: float = 0.0
    mix: float = 0.0
    swaps: float = 0.0
    opener: float = 0.3
    closer: float = 0.3
    detail: float = 0.4
    signoff: str | None = None


PLAIN = Style(emoji=0.0, opener=0.0, closer=0.0, detail=0.0)


def random_style(rng: random.Random, *, careful: bool = False) -> Style:
    """A random author style; ``careful`` authors (advocates, staff) write cleanly."""
    if careful:
        return Style(emoji=rng.choice((0.1, 0.3)), opener=rng.random() * 0.4,
                     closer=rng.random() * 0.4, detail=0.3, no_period=rng.random() < 0.1,
                     brackets=rng.random() < 0.2)
    return Style(
        lower=rng.random() < 0.15,
        no_period=rng.random() < 0.3,
        brackets=rng.random() < 0.3,
        exclaim=rng.random() < 0.2,
        ellipsis=rng.random() < 0.2,
        caps=rng.choice((0.0, 0.0, 0.1, 0.3)),
        emoji=rng.choice((0.0, 0.1, 0.3, 0.6)),
        typos=rng.choice((0.0, 0.01, 0.03, 0.06)),
        slang=rng.choice((0.0, 0.1, 0.3)),
        mix=rng.choice((0.0, 0.0, 0.05, 0.15)),
        swaps=rng.choice((0.0, 0.2, 0.6)),
        opener=rng.random() * 0.6,
        closer=rng.random() * 0.6,
        detail=0.2 + rng.random() * 0.5,
    )


def _templates(items, where: str) -> list[Template]:
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: expected a non-empty list of templates")
    out = []
    for item in items:
        if isinstance(item, dict) and len(item) == 1:
            (groups, text), = item.items()
            item = f"{groups}: {text}"
        if not isinstance(item, str):
            raise ValueError(f"{where}: {item!r} is not a template")
        match = TAGGED.match(item)
        if match:
            out.append(Template(match.group(2), frozenset(match.group(1).split(","))))
        else:
            out.append(Template(item))
    return out


TEMPLATE_KEYS = ("openers", "closers", "details", "touchpoints", "replies", "titles",
                 "review_titles", "planted", "staff_sign", "staff_open", "staff_close",
                 "answer_tail", "answer_lead")


@cache
def lexicon(lang: str) -> dict:
    """The phrase file of a language; lists under ``TEMPLATE_KEYS`` become Templates."""
    data = yaml.safe_load((TEMPLATES / f"{lang}.yaml").read_text(encoding="utf-8"))

    def walk(value, where):
        if isinstance(value, dict):
            return {key: walk(inner, f"{where}.{key}") for key, inner in value.items()}
        if isinstance(value, list):
            return _templates(value, where)
        return value

    return {key: walk(value, f"{lang}.{key}") if key in TEMPLATE_KEYS else value
            for key, value in data.items()}


@cache
def world() -> dict:
    return yaml.safe_load((TEMPLATES / "world.yaml").read_text(encoding="utf-8"))


@cache
def news() -> dict:
    return yaml.safe_load((TEMPLATES / "news.yaml").read_text(encoding="utf-8"))


def sentences(text: str) -> list[str]:
    """A text's sentences (split after ``.!?…``)."""
    return [part for part in SENTENCE_END.split(text.strip()) if part]


class Writer:
    """Fills templates for one seeded generator; every text it returns is new."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()
        self.bands: dict[int, list[bytes]] = defaultdict(list)  # MinHash LSH of accepted texts
        self.last_used: set[str] = set()  # the core phrases of the last post()
        self.last_core: list[str] = []  # and those phrases filled in, before any habits

    # -- picking and filling -----------------------------------------------------------------

    def options(self, lang: str, *path: str, group: str | None = None,
                avoid: tuple[str, ...] = ()) -> list[Template]:
        """The templates at ``path`` that fit the product group and hold none of ``avoid``."""
        node = lexicon(lang)
        for key in path:
            node = node[key]
        fitting = [t for t in node if t.fits(group)
                   and not any(word in t.text.casefold() for word in avoid)]
        return fitting or list(node)

    def pick(self, lang: str, *path: str, group: str | None = None) -> Template:
        return self.rng.choice(self.options(lang, *path, group=group))

    def brand_forms(self, lang: str, brand: str) -> dict[str, str]:
        variants = lexicon(lang)["brands"][brand]
        chosen = self.rng.choices(variants, weights=[v["weight"] for v in variants])[0]
        return chosen["forms"]

    def fill(self, lang: str, text: str, ctx: dict) -> str:
        """Replace every ``{slot}`` / ``{slot.case}`` (an unknown slot is an error), then pick
        one of each ``{a|b|c}`` (alternatives may hold slots)."""
        lex = lexicon(lang)
        forms = ctx.setdefault("_forms", {})

        def brand(name: str) -> dict:
            if name not in forms:
                forms[name] = self.brand_forms(lang, name)
            return forms[name]

        def value(match: re.Match) -> str:
            name, case = match.group(1), match.group(2) or "nom"
            if name in ("V", "T", "B"):
                which = {"V": "volna", "T": "telenova"}.get(name) or ctx.get("brand") or "volna"
                return brand(which)[case]
            if name == "P":
                product = ctx.get("product") or "volna-mobile"
                if product not in ctx.setdefault("_product", {}):
                    ctx["_product"][product] = self.rng.choice(lex["products"][product])
                return ctx["_product"][product]
            if name in ctx:
                return str(ctx[name])
            if name == "plan" and ctx.get("brand") == "telenova":
                return "Telenova Go"
            if name == "ticket":
                return f"VL-{self.rng.randrange(100000, 999999)}"
            if name == "n":
                return str(self.rng.randrange(3, 25))
            if name in lex["slots"]:
                return self.rng.choice(lex["slots"][name])
            raise KeyError(f"unknown slot {{{name}}} in {lang} template {text!r}")

        text = SLOT.sub(value, text)
        text = CHOICE.sub(lambda m: self.rng.choice(m.group(1).split("|")), text)
        return re.sub(r"  +", " ", text).replace(" ,", ",").replace(" .", ".")

    def phrase(self, lang: str, *path: str, ctx: dict, group: str | None = None) -> str:
        return self.fill(lang, self.pick(lang, *path, group=group).text, ctx)

    def vary(self, lang: str, text: str, rate: float = 0.6, fillers: float = 0.6) -> str:
        """Paraphrase: swap words for synonyms of the language's ``synonyms`` list (each
        occurrence with chance ``rate``, keeping a capital first letter), and with chance
        ``fillers`` open one sentence with a colloquial filler (``Ну,``, ``Кстати,``,
        ``Honestly,``)."""
        rng = self.rng
        for word, alternatives in (lexicon(lang).get("synonyms") or {}).items():
            def swap(match: re.Match, alternatives=alternatives) -> str:
                if rng.random() >= rate:
                    return match.group(0)
                chosen = rng.choice(alternatives)
                return chosen[0].upper() + chosen[1:] if match.group(0)[0].isupper() else chosen
            text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", swap, text,
                          flags=re.IGNORECASE)
        if rng.random() < fillers:
            filler = rng.choice(lexicon(lang)["fillers"])
            parts = sentences(text)
            at = rng.randrange(len(parts)) if parts else 0
            if parts and parts[at][:1].isupper():
                head = parts[at]
                if not PROPER.match(head):
                    head = head[0].lower() + head[1:]
                parts[at] = f"{filler[0].upper()}{filler[1:]}, {head}"
                text = " ".join(parts)
        return text

    # -- roughening --------------------------------------------------------------------------

    def typo(self, word: str) -> str:
        """One keyboard slip: two letters swapped, one dropped or one doubled."""
        i = self.rng.randrange(1, len(word) - 1)
        kind = self.rng.randrange(3)
        if kind == 0:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if kind == 1:
            return word[:i] + word[i + 1:]
        return word[:i] + word[i] + word[i:]

    def roughen(self, lang: str, text: str, style: Style) -> str:
        """Swaps (``что`` → ``чё``) and typos on lower-case words; brands and URLs untouched."""
        swaps = lexicon(lang).get("swaps") or {}
        if style.swaps and self.rng.random() < style.swaps:
            for plain, slang in swaps.items():
                if self.rng.random() < 0.5:
                    text = re.sub(rf"(?<!\w){re.escape(plain)}(?!\w)", slang, text)
        if not style.typos:
            return text

        def slip(match: re.Match) -> str:
            word = match.group(0)
            if (len(word) >= 5 and word.islower() and "'" not in word
                    and self.rng.random() < style.typos):
                return self.typo(word)
            return word

        parts = re.split(r"(\S*(?:https?://|volna\.net|@)\S*)", text)
        return "".join(part if i % 2 else WORD.sub(slip, part) for i, part in enumerate(parts))

    def decorate(self, lang: str, text: str, style: Style, sentiment: str) -> str:
        """Whole-post habits: case, punctuation, brackets, emoji, slang, code-switching."""
        rng, lex = self.rng, lexicon(lang)
        if style.slang and rng.random() < style.slang:
            word = rng.choice(lex["slang"])
            text = f"{word}, {text[0].lower()}{text[1:]}" if rng.random() < 0.5 \
                else f"{text} {word}"
        if style.mix and rng.random() < style.mix:
            text = f"{text} {rng.choice(lex['mix'])}"
        if style.caps and rng.random() < style.caps:
            words = [w for w in WORD.findall(text) if len(w) >= 4 and w.islower()]
            if words:
                word = rng.choice(words)
                text = text.replace(word, word.upper(), 1)
        if style.ellipsis and rng.random() < 0.5:
            text = re.sub(r"\.(\s)", r"...\1", text, count=1)
        if style.no_period:
            text = re.sub(r"(?<![.\d])\.(?=\s|$)", "", text)
        if style.exclaim and sentiment == "negative":
            text = re.sub(r"[.!]?$", "!!!", text.rstrip(), count=1)
        if style.brackets and lang != "en":
            text = text.rstrip() + (")))" if sentiment == "positive" else
                                    "((" if sentiment == "negative" else ")")
        if style.emoji and rng.random() < style.emoji:
            text = f"{text} {rng.choice(lex['emoji'][sentiment])}"
        if style.lower:
            parts = re.split(r"(https?://\S+)", text)
            text = "".join(part if i % 2 else part.lower() for i, part in enumerate(parts))
        if style.signoff:
            text = f"{text}\n\n{style.signoff}"
        return text

    # -- whole posts -------------------------------------------------------------------------

    def near_copy(self, sig: bytes | None) -> bool:
        """True if a text with MinHash ``sig`` would read as a copy of one written before."""
        return bool(sig) and any(similarity(sig, other) >= NEAR for band in band_keys(sig)
                                 for other in self.bands.get(band, ()))

    def unique(self, make, attempts: int = 60, near: bool = True) -> str:
        """``make()`` until it gives a text not written before, nor (with ``near``) a near-copy
        of one by the crawl pipeline's own MinHash measure; in the later tries a small tail (an
        emoji, a bracket) tells exact repeats apart."""
        tails = ("", " 🙂", ")", " +1", "!", " 🤷", " 😕", "...", " 👍", " ))", " ?", " 🙏")
        fallback = None
        for attempt in range(attempts):
            text = make()
            if attempt >= attempts // 2:
                text += self.rng.choice(tails[1:]) + self.rng.choice(tails)
            key = " ".join(text.casefold().split())
            if key in self.seen:
                continue
            sig = signature(text) if near else None
            if self.near_copy(sig):
                fallback = fallback or (text, key, sig, list(self.last_core))
                continue
            return self._accept(text, key, sig)
        if fallback:
            self.last_core = fallback[3]
            return self._accept(*fallback[:3])
        raise RuntimeError(f"could not write a new text; last try: {text!r}")

    def _accept(self, text: str, key: str, sig: bytes | None) -> str:
        self.seen.add(key)
        if sig:
            for band in band_keys(sig):
                self.bands[band].append(sig)
        return text

    def compose(self, lang: str, core: list[str], style: Style, sentiment: str, ctx: dict, *,
                group: str | None = None, extras: bool = True, rough: bool = True) -> str:
        """Core sentences (already filled) with an optional opener, detail and closer, then
        the author's habits. ``rough=False`` keeps the core sentences free of typos."""
        rng = self.rng
        parts: list[tuple[str, bool]] = []
        if extras and rng.random() < style.opener:
            parts.append((self.phrase(lang, "openers", ctx=ctx), True))
        parts.extend((sentence, rough) for sentence in core)
        if extras and rng.random() < style.detail:
            kinds = ["any", "trouble", "trouble"] if sentiment == "negative" else ["any"]
            if group and rng.random() < 0.3:
                kinds = [group]
            parts.append((self.phrase(lang, "details", rng.choice(kinds), ctx=ctx), True))
        if extras and rng.random() < style.closer:
            parts.append((self.phrase(lang, "closers", sentiment, ctx=ctx), True))
        pieces = [self.roughen(lang, text, style) if ok else text for text, ok in parts]
        for i in range(1, len(pieces)):
            if pieces[i - 1].rstrip().endswith(("—", ":", ",")) and pieces[i][:1].isupper() \
                    and not PROPER.match(pieces[i]):
                pieces[i] = pieces[i][0].lower() + pieces[i][1:]
        if len(pieces) >= 4 and rng.random() < 0.5:
            cut = rng.randrange(2, len(pieces))
            body = " ".join(pieces[:cut]) + "\n\n" + " ".join(pieces[cut:])
        else:
            body = " ".join(pieces)
        return self.decorate(lang, body, style, sentiment)

    def post(self, lang: str, path: tuple[str, ...], style: Style, sentiment: str, ctx: dict,
             *, group: str | None = None, cores: int = 1, prefix: str = "",
             extras: bool = True, rough: bool = True, after: str = "",
             avoid: tuple[str, ...] = (), used: set[str] | None = None,
             vary: bool = True) -> str:
        """A unique post: ``cores`` different phrases from ``path`` (plus extras and habits);
        ``prefix`` / ``after`` are filled phrases put before / after the core. Phrases in
        ``used`` (say, already written in the thread) are avoided while others are left, and
        the chosen ones are added to it."""

        def make() -> str:
            local = dict(ctx)
            options = self.options(lang, *path, group=group, avoid=avoid)
            if used is not None:
                options = [t for t in options if t.text not in used] or options
            chosen = self.rng.sample(options, min(cores, len(options)))
            self.last_used = {t.text for t in chosen}
            if used is not None:
                used.update(self.last_used)
            core = [self.fill(lang, t.text, local) for t in chosen]
            self.last_core = list(core)
            if vary:
                core = [self.vary(lang, sentence) for sentence in core]
            if prefix:
                core.insert(0, prefix)
            if after:
                core.append(after)
            return self.compose(lang, core, style, sentiment, local, group=group,
                                extras=extras, rough=rough)

        return self.unique(make)

    def title(self, lang: str, text: str, sentiment: str, ctx: dict,
              core: list[str] | None = None) -> str:
        """A thread title: usually the first real sentence (of ``core``, the post's phrases
        before the author's habits, when given), cut at a word; sometimes a template."""
        kind = {"negative": "negative", "positive": "positive"}.get(sentiment, "question")
        source = core[0] if core else text.split("\n")[0]
        candidates = [s for s in sentences(source) if len(s.split()) >= 4]
        if self.rng.random() < 0.2 or not candidates:
            return self.phrase(lang, "titles", kind, ctx=dict(ctx))
        first = candidates[0].strip(" .,!")
        if len(first) > 70:
            first = first[:70].rsplit(" ", 1)[0].rstrip(",;:—-") + "…"
        return first[0].upper() + first[1:]
