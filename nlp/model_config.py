"""Which models the NLP stages use, from ``data/nlp.yaml``.

The ``sentiment:`` section::

    sentiment:
      model: models/sentiment    # the shipped model, or a local Hugging Face model dir / name
      labels:                    # that model's label ids or names -> negative/neutral/positive
        negative: negative
        neutral: neutral
        positive: positive
      precision: auto            # auto (bf16 where the CPU computes it natively, else fp32),
                                 # fp32, bf16 or int8
      max_length: 256            # tokens; longer posts are truncated

Every field is optional; a missing file gives the defaults. Errors are ``ConfigError`` with the
file, the line, the field and the valid choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from config.defaults import default_data_file
from config.yaml_nodes import ConfigError, NodeReader

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NLP_CONFIG = default_data_file("nlp.yaml")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
PRECISIONS = ("auto", "fp32", "bf16", "int8")  # see nlp.precision
SENTIMENT_FIELDS = {"model", "labels", "precision", "max_length"}
MAX_LENGTH_LIMIT = 512  # position embeddings of BERT/XLM-R-sized encoders


@dataclass(frozen=True)
class SentimentSettings:
    """The sentiment model to load. ``labels`` maps the model's label ids (int) or names (str)
    to one of ``SENTIMENT_LABELS``; empty means "the model's own names are already ours"."""

    model: str = "models/sentiment"
    labels: Mapping[int | str, str] = field(default_factory=dict)
    precision: str = "auto"  # one of PRECISIONS
    max_length: int = 256

    def model_path(self) -> Path | str:
        """``model`` as a directory if one exists (relative paths from the repository root),
        otherwise unchanged: a model name for the local Hugging Face cache."""
        path = Path(self.model).expanduser()
        for candidate in (path, REPO_ROOT / path):
            if candidate.is_dir():
                return candidate.resolve()
        return self.model


@dataclass(frozen=True)
class NlpConfig:
    sentiment: SentimentSettings = field(default_factory=SentimentSettings)


def load_nlp_config(path: str | Path = DEFAULT_NLP_CONFIG) -> NlpConfig:
    """Read and validate the NLP configuration; a missing default file gives the defaults."""
    path = Path(path)
    if path == DEFAULT_NLP_CONFIG and not path.exists():
        return NlpConfig()
    reader = NodeReader(path)
    top = reader.mapping(reader.load(), "nlp file", set(), {"sentiment"})
    if "sentiment" not in top:
        return NlpConfig()
    return NlpConfig(sentiment=_sentiment(reader, top["sentiment"]))


def _sentiment(reader: NodeReader, node: Node) -> SentimentSettings:
    if isinstance(node, ScalarNode) and node.value in ("", "~", "null"):
        return SentimentSettings()
    values = reader.mapping(node, "sentiment", set(), SENTIMENT_FIELDS)
    extra: dict = {}
    if "model" in values:
        extra["model"] = reader.string(values["model"], "sentiment.model")
    if "labels" in values:
        extra["labels"] = _labels(reader, values["labels"])
    if "precision" in values:
        extra["precision"] = reader.choice(values["precision"], "sentiment.precision", PRECISIONS)
    if "max_length" in values:
        length = reader.integer(values["max_length"], "sentiment.max_length", 8)
        if length > MAX_LENGTH_LIMIT:
            raise reader.fail(values["max_length"], "sentiment.max_length",
                              f"{length} is more than the {MAX_LENGTH_LIMIT} positions "
                              "such encoders have")
        extra["max_length"] = length
    return SentimentSettings(**extra)


def _labels(reader: NodeReader, node: Node) -> dict[int | str, str]:
    if not isinstance(node, MappingNode):
        raise reader.fail(node, "sentiment.labels",
                          "expected a mapping of the model's label ids or names to "
                          f"{', '.join(SENTIMENT_LABELS)}")
    labels: dict[int | str, str] = {}
    for key_node, value_node in node.value:
        key_text = str(key_node.value).strip()
        key: int | str = int(key_text) if key_text.lstrip("-").isdigit() else key_text
        where = f"sentiment.labels.{key_text}"
        if key in labels:
            raise reader.fail(key_node, where, "this model label is mapped twice")
        value = str(getattr(value_node, "value", "")).strip().lower()
        if not isinstance(value_node, ScalarNode) or value not in SENTIMENT_LABELS:
            shown = getattr(value_node, "value", "a nested value")
            raise reader.fail(value_node, where,
                              f"{shown!r} is not a sentiment label "
                              f"(expected one of: {', '.join(SENTIMENT_LABELS)})")
        labels[key] = value
    try:
        check_targets(labels)
    except ValueError as error:
        raise reader.fail(node, "sentiment.labels", str(error)) from None
    return labels


def check_targets(labels: Mapping[int | str, str]) -> None:
    """A mapping must reach both ``negative`` and ``positive`` (``neutral`` may be absent
    for two-class models)."""
    missing = [name for name in ("negative", "positive") if name not in labels.values()]
    if missing:
        raise ValueError(f"no model label is mapped to {' or '.join(missing)}")


def resolve_label_map(
    labels: Mapping[int | str, str], id2label: Mapping[int, str]
) -> list[str]:
    """Our label for each of the model's label ids, in id order.

    ``labels`` keys may be ids or the model's label names; an empty ``labels`` requires the
    model's own names to be ``negative`` / ``neutral`` / ``positive`` (any case).
    Raises ``ConfigError`` naming the unknown or unmapped label and the model's labels.
    """
    known = ", ".join(f"{i}={name}" for i, name in sorted(id2label.items()))
    if not labels:
        labels = {name: name.lower() for name in id2label.values()}
        unknown = [name for name in id2label.values() if name.lower() not in SENTIMENT_LABELS]
        if unknown:
            raise ConfigError(
                f"nlp.yaml: sentiment.labels: the model's labels ({known}) are not "
                f"{'/'.join(SENTIMENT_LABELS)}; map them, e.g. labels: {{0: negative, ...}}"
            )
    by_name = {name: i for i, name in id2label.items()}
    mapped: dict[int, str] = {}
    for key, target in labels.items():
        model_id = key if isinstance(key, int) and key in id2label else by_name.get(str(key))
        if model_id is None:
            raise ConfigError(
                f"nlp.yaml: sentiment.labels: {key!r} is not a label of the model "
                f"(its labels are {known})"
            )
        if model_id in mapped and mapped[model_id] != target:
            raise ConfigError(
                f"nlp.yaml: sentiment.labels: model label {id2label[model_id]!r} is mapped "
                f"to both {mapped[model_id]} and {target}"
            )
        mapped[model_id] = target
    unmapped = [f"{i}={id2label[i]}" for i in sorted(id2label) if i not in mapped]
    if unmapped:
        raise ConfigError(
            f"nlp.yaml: sentiment.labels: model label(s) {', '.join(unmapped)} have no mapping "
            f"(map every label to one of {', '.join(SENTIMENT_LABELS)})"
        )
    try:
        check_targets(mapped)
    except ValueError as error:
        raise ConfigError(f"nlp.yaml: sentiment.labels: {error}") from None
    return [mapped[i] for i in sorted(id2label)]
