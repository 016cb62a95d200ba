"""The sources to crawl, from ``data/sources.yaml``: which sites, which brands, how far back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from config.catalogue import ID_PATTERN
from config.defaults import default_data_file
from config.yaml_nodes import ConfigError, NodeReader

DEFAULT_SOURCES = default_data_file("sources.yaml")
COMMON_FIELDS = {"id", "kind", "url"}
OPTIONAL_FIELDS = {"title", "brands", "since_days", "max_pages", "options", "enabled"}


@dataclass(frozen=True)
class SourceConfig:
    """One place to listen to. ``kind`` names the spider; ``options`` are the spider's own."""

    id: str
    kind: str
    url: str
    title: str = ""
    brands: tuple[str, ...] = ()
    since_days: int = 90
    max_pages: int = 1000
    enabled: bool = True
    options: dict = field(default_factory=dict)


def load_sources(path: str | Path = DEFAULT_SOURCES) -> list[SourceConfig]:
    """Read and validate the sources file."""
    reader = NodeReader(Path(path))
    top = reader.mapping(reader.load(), "sources file", {"sources"})
    sources, seen = [], set()
    for i, node in enumerate(reader.sequence(top["sources"], "sources")):
        source = _source(reader, node, f"sources[{i}]")
        if source.id in seen:
            raise reader.fail(node, f"sources[{i}].id", f"id {source.id!r} is used twice")
        seen.add(source.id)
        sources.append(source)
    return sources


def select_sources(sources: list[SourceConfig], wanted: list[str]) -> list[SourceConfig]:
    """The sources named in ``wanted`` (all enabled ones when empty); unknown names fail."""
    if not wanted:
        return [source for source in sources if source.enabled]
    by_id = {source.id: source for source in sources}
    unknown = [name for name in wanted if name not in by_id]
    if unknown:
        raise ConfigError(
            f"unknown source {unknown[0]!r}; known: {', '.join(sorted(by_id)) or 'none'}"
        )
    return [by_id[name] for name in wanted]


def _source(reader: NodeReader, node: Node, field_path: str) -> SourceConfig:
    values = reader.mapping(node, field_path, COMMON_FIELDS, OPTIONAL_FIELDS)
    source_id = reader.string(values["id"], f"{field_path}.id")
    if not ID_PATTERN.match(source_id):
        raise reader.fail(values["id"], f"{field_path}.id",
                          f"id {source_id!r} must be lower-case letters, digits, '-' or '_'")
    url = reader.string(values["url"], f"{field_path}.url")
    if not url.startswith(("http://", "https://")):
        raise reader.fail(values["url"], f"{field_path}.url", f"{url!r} is not an http(s) URL")
    extra = {}
    if "title" in values:
        extra["title"] = reader.string(values["title"], f"{field_path}.title")
    if "brands" in values:
        extra["brands"] = tuple(reader.strings(values["brands"], f"{field_path}.brands"))
    if "since_days" in values:
        extra["since_days"] = reader.integer(values["since_days"], f"{field_path}.since_days", 1)
    if "max_pages" in values:
        extra["max_pages"] = reader.integer(values["max_pages"], f"{field_path}.max_pages", 1)
    if "enabled" in values:
        extra["enabled"] = reader.boolean(values["enabled"], f"{field_path}.enabled")
    if "options" in values:
        extra["options"] = _plain(reader, values["options"], f"{field_path}.options")
        if not isinstance(extra["options"], dict):
            raise reader.fail(values["options"], f"{field_path}.options", "expected a mapping")
        for key, value in values["options"].value:
            if key.value == "timezone":
                reader.time_zone(value, f"{field_path}.options.timezone")
    return SourceConfig(
        source_id, reader.string(values["kind"], f"{field_path}.kind"), url, **extra
    )


def _plain(reader: NodeReader, node: Node, field_path: str):
    """A node as plain Python values (strings stay strings; the spider checks them)."""
    if isinstance(node, MappingNode):
        return {k.value: _plain(reader, v, f"{field_path}.{k.value}") for k, v in node.value}
    if isinstance(node, SequenceNode):
        return [_plain(reader, item, f"{field_path}[{i}]") for i, item in enumerate(node.value)]
    if isinstance(node, ScalarNode):
        return node.value
    raise reader.fail(node, field_path, "unsupported value")
