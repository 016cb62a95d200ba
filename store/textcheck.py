"""Does a text look garbled by a wrong encoding? Pure functions, standard library only.

Two kinds of damage are recognised:

* replacement characters (U+FFFD): bytes that did not decode at all;
* mojibake: text decoded in the wrong code page. The common ones for Cyrillic are UTF-8 read
  as windows-1251 (``привет`` → ``РїСЂРёРІРµС‚``, ``—`` → ``вЂ”``), UTF-8 read as latin-1 or
  windows-1252 (``привет`` → ``Ð¿Ñ€Ð¸Ð²ÐµÑ‚``, ``’`` → ``â€™``, ``é`` → ``Ã©``) and
  windows-1251 read as windows-1252 (``привет`` → ``ïðèâåò``).

Every pattern needs what real words do not have, e.g. two mangled letters in a row, so
Ukrainian ``Сіль``, Spanish ``Ñoño``, ``Ørsted``, emoji and math symbols are not flagged.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"

# What the second byte of a two-byte UTF-8 sequence (0x80–0xBF) becomes in each code page.
_TAIL_1251 = bytes(range(0x80, 0xC0)).decode("cp1251", errors="ignore")
_TAIL_1252 = bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")

MOJIBAKE = re.compile("|".join((
    # Cyrillic UTF-8 (lead bytes 0xD0–0xD2) read as windows-1251: "Рї", "СЂ", "Т‘", twice in a row
    f"(?:[РСТ][{re.escape(_TAIL_1251)}]){{2,}}",
    # punctuation (E2 80 xx: dashes, quotes, ellipsis) read as windows-1251
    "вЂ",
    # Cyrillic UTF-8 read as latin-1 / windows-1252: "Ð¿", "Ñ€", twice in a row
    f"(?:[ÐÑÒ][{re.escape(_TAIL_1252)}]){{2,}}",
    # Latin UTF-8 and punctuation read as windows-1252: "Ã©", "â€™"
    f"Ã[{re.escape(_TAIL_1252)}]",
    "â€",
    # windows-1251 Cyrillic read as windows-1252: runs of accented Latin letters, "ïðèâåò"
    "[À-ÖØ-öø-ÿ]{4,}",
)))


def garble_marks(text: str | None) -> int:
    """How many signs of encoding damage ``text`` shows: replacement characters plus
    mojibake sequences (0 for clean text)."""
    if not text:
        return 0
    return text.count(REPLACEMENT) + sum(1 for _ in MOJIBAKE.finditer(text))


def looks_garbled(text: str | None) -> bool:
    """True if ``text`` shows any sign of encoding damage."""
    return garble_marks(text) > 0


def became_garbled(old: str | None, new: str | None) -> bool:
    """True if ``new`` shows more encoding damage than ``old``: an edit that would turn
    readable words into replacement characters or mojibake."""
    return garble_marks(new) > garble_marks(old)
