"""Near-duplicate detection for cross-posts: MinHash signatures with LSH bands.

Two posts are near-duplicates when their sets of word pairs overlap by ``THRESHOLD``
(Jaccard) or more. Posts sharing a band key are candidates; the signatures then estimate
the overlap. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

PERMUTATIONS = 32
ROWS_PER_BAND = 4
THRESHOLD = 0.6
MIN_WORDS = 12  # shorter texts ("спасибо!", "+1") repeat by chance, not by cross-posting
WORD = re.compile(r"\w+", re.UNICODE)
_MASK32 = np.uint64(0xFFFFFFFF)
_rng = np.random.default_rng(20261124)
_A = _rng.integers(1, 2**32 - 1, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**32 - 1, PERMUTATIONS, dtype=np.uint64)


def _shingles(text: str) -> set[str]:
    words = [word.replace("ё", "е") for word in WORD.findall(text.casefold())]
    if len(words) < MIN_WORDS:
        return set()
    return {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


def signature(text: str) -> bytes | None:
    """The MinHash signature of ``text`` (``PERMUTATIONS`` 32-bit values), or ``None`` for
    texts too short to call a repeat a cross-post."""
    shingles = _shingles(text)
    if not shingles:
        return None
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little")
         for s in shingles),
        dtype=np.uint64, count=len(shingles),
    )
    permuted = (hashes[None, :] * _A[:, None] + _B[:, None]) & _MASK32
    return permuted.min(axis=1).astype("<u4").tobytes()


def band_keys(sig: bytes) -> list[int]:
    """LSH keys: one per band of ``ROWS_PER_BAND`` values, tagged with the band number."""
    keys = []
    for band, start in enumerate(range(0, len(sig), 4 * ROWS_PER_BAND)):
        digest = hashlib.blake2b(sig[start : start + 4 * ROWS_PER_BAND], digest_size=7).digest()
        keys.append(band << 56 | int.from_bytes(digest, "little"))
    return keys


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard overlap of the word pairs behind two signatures."""
    left, right = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.mean(left == right))
