"""The one loader of Otklik's spaCy pipelines: ``load_nlp(lang, catalogue)``.

Pipes: lemmatizer (pymorphy3 lookup for ru / uk, lookup tables for en) → ``otklik_lemmas``
→ sentencizer → ``otklik_sentence_breaks`` → ``otklik_brands`` → ``otklik_touchpoints`` →
``otklik_intents``. No tagger or parser, so nothing is downloaded.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

import spacy
from spacy.language import Language

from config.catalogue import Catalogue, load_catalogue
from nlp import intents, touchpoints  # noqa: F401  (registers the factories)
from nlp.components import brand_entries

PIPELINE_LANGUAGES = ("ru", "uk", "en")
MAX_CACHED = 12
_cache: dict[tuple[str, str], Language] = {}
_lock = threading.Lock()
# spaCy logs each initialisation step through its own handler, at whatever level the root
# logger lets through (everything, once Scrapy has set logging up): keep to its warnings.
logging.getLogger("spacy").setLevel(logging.WARNING)


def pipeline_language(lang: str) -> str:
    """ru, uk or en: the pipeline a text in ``lang`` goes through (anything else → en)."""
    return lang if lang in PIPELINE_LANGUAGES else "en"


def build_nlp(lang: str, catalogue: Catalogue, intent_patterns: Path | None = None) -> Language:
    """A fresh, initialised pipeline for ``lang`` configured from ``catalogue``."""
    lang = pipeline_language(lang)
    nlp = spacy.blank(lang)
    mode = "lookup" if lang == "en" else "pymorphy3_lookup"
    nlp.add_pipe("lemmatizer", config={"mode": mode})
    nlp.add_pipe("otklik_lemmas")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("otklik_sentence_breaks")
    nlp.add_pipe("otklik_brands", config={"entries": brand_entries(catalogue)})
    nlp.add_pipe("otklik_touchpoints",
                 config={"touchpoints": touchpoints.touchpoint_entries(catalogue)})
    nlp.add_pipe("otklik_intents",
                 config={"patterns_path": str(intent_patterns or intents.DEFAULT_PATTERNS)})
    nlp.initialize()
    return nlp


def load_nlp(lang: str, catalogue: Catalogue | None = None) -> Language:
    """The cached pipeline for ``lang`` and ``catalogue`` (the default catalogue if None)."""
    catalogue = catalogue or default_catalogue()
    key = (pipeline_language(lang), catalogue.fingerprint)
    with _lock:
        nlp = _cache.get(key)
        if nlp is None:
            if len(_cache) >= MAX_CACHED:
                _cache.pop(next(iter(_cache)))
            nlp = _cache[key] = build_nlp(lang, catalogue)
        return nlp


@cache
def default_catalogue() -> Catalogue:
    """``data/catalogue.yaml``, read once per process."""
    return load_catalogue()
