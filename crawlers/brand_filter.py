"""Does a text mention one of the catalogue's brands? A pure, fast pre-filter for crawlers.

Feeds and news sites publish far more than any one brand; crawlers keep only what names a
brand of the source. The NLP stage does full lemma matching later: this filter only has to
be good enough not to lose mentions and not to keep obvious noise.

Rules, for every alias of a brand and of its products:

* case-insensitive, ``ё`` = ``е``, Unicode NFC; the alias must start and end on a word
  boundary (``_`` and ``#``/``@`` count as boundaries, so ``#volna`` and ``@volna_help``
  name Volna), so a word that merely contains the alias (``Новаволна``) does not match;
* Cyrillic words are inflected: the alias' final vowel / ``й`` / ``ь`` is cut off and any
  Russian or Ukrainian case ending may follow (``Волна`` → ``Волной``, ``Волне``, ``Волну``,
  ``Волною``, ``Волні``), but nothing longer (``волнение``, ``волновой`` do not match);
* the words of a multi-word alias may be split by spaces, hyphens or ``_``, and camel-cased
  hashtags are split (``#МояВолна`` → ``Моя Волна``);
* an ``ambiguous`` alias (an ordinary word too: "волна" is a wave) counts only when one of
  the brand's ``context`` words is near, or when it is written with a capital letter in the
  middle of a sentence ("абоненты Волны", "перешёл в Волну", not "Волна жары ..." at the
  start of a headline).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# Letters and digits; "_" is a separator (handles such as @volna_help).
ALNUM = r"[^\W_]"
START = rf"(?<!{ALNUM})"
END = rf"(?!{ALNUM})"
WORD_SEPARATOR = r"[\s\-\u2010-\u2015_]+"
APOSTROPHES = "'\u2019\u02bc`"
# Russian and Ukrainian noun, adjective and pronoun endings (nominal declension).
ENDINGS = (
    "а", "я", "о", "е", "ы", "и", "і", "ї", "у", "ю", "є", "й", "ь",
    "ой", "ей", "ою", "ею", "єю", "ом", "ем", "ам", "ям", "ах", "ях", "ами", "ями",
    "ов", "ев", "ів", "ові", "еві", "ью", "ья", "ье", "ьи",
    "ий", "ый", "ій", "ая", "яя", "ое", "ее", "ие", "ые", "ого", "его", "ому", "ему",
    "ым", "им", "ім", "ую", "юю", "ых", "их", "іх", "ыми", "ими", "іми", "ої", "ьої",
    "ього", "ьому", "ьою",
)
STRIPPABLE = "аяоеыиіїуюєйь"
CONTEXT_WINDOW = 150  # characters either side of an ambiguous alias
SENTENCE_END = ".!?…:;\n"
OPENERS = "«\"'„“”‘’([{—–- \t\u00a0"
CAMEL = re.compile(r"(?<=[a-zа-яёіїєґ])(?=[A-ZА-ЯЁІЇЄҐ])")
HASHTAG = re.compile(r"#\w+")
VOWELS = "аяоеэыиіїуюєё"
FLEETING = re.compile(rf"[^{VOWELS}\W][оеё][кцн]$", re.IGNORECASE)


def normalise(text: str) -> str:
    """NFC and ``ё`` → ``е``; matching, context windows and the capital-letter check all
    work on this one normalised text."""
    return unicodedata.normalize("NFC", text or "").replace("ё", "е").replace("Ё", "Е")


def split_hashtags(text: str) -> str:
    """``#МояВолна`` → ``#Моя Волна``, ``#volna_home`` → ``#volna home``."""
    if "#" not in text:
        return text
    return HASHTAG.sub(lambda m: CAMEL.sub(" ", m.group(0).replace("_", " ")), text)


def word_pattern(word: str, *, inflect: bool) -> str:
    """A regex for one word of an alias: Cyrillic words take case endings when ``inflect``."""
    word = normalise(word)
    if not inflect or not CYRILLIC.search(word):
        return _escape(word)
    stem = word
    for _ in range(2):
        if len(stem) > 2 and stem[-1].lower() in STRIPPABLE:
            stem = stem[:-1]
    suffix = word[len(stem):].lower()
    endings = "|".join(sorted({suffix, *ENDINGS} - {""}, key=len, reverse=True))
    stems = [stem]
    if FLEETING.search(stem):  # звонок → звонка, зв'язок → зв'язку, конец → конца
        stems.append(stem[:-2] + stem[-1])
    return f"(?:{'|'.join(_escape(s) for s in stems)})(?:{endings})?"


def alias_pattern(alias: str) -> str:
    """A regex (no flags) matching ``alias`` as a whole word or phrase, inflected."""
    words = normalise(alias).strip().split()
    if not words:
        raise ValueError("empty alias")
    multi = len(words) > 1
    parts = []
    for word in words:
        letters = sum(ch.isalpha() for ch in word)
        parts.append(word_pattern(word, inflect=letters >= 4 or (multi and letters >= 3)))
    return START + WORD_SEPARATOR.join(parts) + END


def context_pattern(word: str) -> str:
    """A context word: Cyrillic inflected like an alias, Latin with an optional plural."""
    pattern = alias_pattern(word)
    if CYRILLIC.search(word) or not word[-1:].isalpha():
        return pattern
    return pattern[: -len(END)] + "(?:s|es)?" + END


def _escape(text: str) -> str:
    return "".join(f"[{APOSTROPHES}]" if ch in APOSTROPHES else re.escape(ch) for ch in text)


def _compile(patterns: Iterable[str]) -> re.Pattern | None:
    patterns = sorted(set(patterns), key=len, reverse=True)
    return re.compile("|".join(patterns), re.IGNORECASE) if patterns else None


@dataclass(frozen=True)
class BrandRule:
    """One brand's compiled aliases (its own and its products')."""

    brand_id: str
    plain: re.Pattern | None
    ambiguous: re.Pattern | None
    context: re.Pattern | None

    def mentioned_in(self, text: str) -> bool:
        """``text`` must already be :func:`normalise`-d."""
        if self.plain is not None and self.plain.search(text):
            return True
        if self.ambiguous is None:
            return False
        return any(self._counts(text, match) for match in self.ambiguous.finditer(text))

    def _counts(self, text: str, match: re.Match) -> bool:
        if _capitalised_mid_sentence(text, match):
            return True
        if self.context is None:
            return False
        window = text[max(0, match.start() - CONTEXT_WINDOW): match.end() + CONTEXT_WINDOW]
        return any(hit.group(0).casefold() != match.group(0).casefold()
                   for hit in self.context.finditer(window))


def _capitalised_mid_sentence(text: str, match: re.Match) -> bool:
    """"…абоненты Волны…": a proper name, not a sentence's (or title's) first word."""
    word = match.group(0)
    if not (word[:1].isupper() and word[1:2].islower()):
        return False
    position = match.start()
    while position > 0 and text[position - 1] in OPENERS:
        position -= 1
    if position == 0:
        return False
    if "\n" in text[position:match.start()]:
        return False
    return text[position - 1] not in SENTENCE_END


def build_rule(brand_id: str, aliases: Iterable[str], ambiguous: Iterable[str] = (),
               context: Iterable[str] = ()) -> BrandRule:
    """Compile one brand's aliases; ``ambiguous`` ones count only near ``context`` words."""
    unclear = {normalise(alias).casefold() for alias in ambiguous}
    plain = [alias_pattern(a) for a in aliases if normalise(a).casefold() not in unclear]
    return BrandRule(
        brand_id,
        _compile(plain),
        _compile(alias_pattern(a) for a in aliases if normalise(a).casefold() in unclear),
        _compile(context_pattern(word) for word in context if word.strip()),
    )


class BrandFilter:
    """Which of the given catalogue brands a text names: ``BrandFilter(brands).brands_in(t)``.

    ``brands`` are ``config.catalogue.Brand`` objects (anything with ``id``, ``aliases``,
    ``products`` (each with ``aliases``), ``ambiguous`` and ``context``).
    """

    def __init__(self, brands: Iterable):
        self.rules = tuple(
            build_rule(
                brand.id,
                [*brand.aliases, *(a for product in brand.products for a in product.aliases)],
                brand.ambiguous,
                brand.context,
            )
            for brand in brands
        )

    def brands_in(self, *texts: str | None) -> list[str]:
        """The ids of the brands named in any of ``texts``, in catalogue order."""
        text = "\n".join(normalise(t) for t in texts if t)
        if not text.strip():
            return []
        split = split_hashtags(text)
        found = []
        for rule in self.rules:
            if rule.mentioned_in(text) or (split != text and rule.mentioned_in(split)):
                found.append(rule.brand_id)
        return found

    def matches(self, *texts: str | None) -> bool:
        """True if any of ``texts`` names one of the brands."""
        return bool(self.brands_in(*texts))
