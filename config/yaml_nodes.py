"""Reading YAML with line numbers, so configuration errors can name the line and the field."""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class ConfigError(Exception):
    """A configuration file is wrong; the message names the file, the line and the field."""


class NodeReader:
    """Typed access to a composed YAML document; every failure raises ``ConfigError``."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.name

    def load(self) -> Node:
        """Compose the file into nodes, turning YAML syntax errors into ``ConfigError``."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{self.path}: file not found") from None
        except UnicodeDecodeError as error:
            raise ConfigError(f"{self.name}: not UTF-8 text ({error.reason})") from None
        try:
            node = yaml.compose(text)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else "?"
            message = f"{self.name}, line {line}: not valid YAML: {error.problem}"
            raise ConfigError(message) from None
        if node is None:
            raise ConfigError(f"{self.name}: the file is empty")
        return node

    def fail(self, node: Node, field: str, message: str) -> ConfigError:
        """An error pointing at ``node``'s line and the dotted ``field`` path."""
        return ConfigError(f"{self.name}, line {node.start_mark.line + 1}: {field}: {message}")

    def mapping(
        self, node: Node, field: str, required: set[str], optional: set[str] = frozenset()
    ) -> dict[str, Node]:
        """A mapping's values by key, checking required and unknown keys."""
        if not isinstance(node, MappingNode):
            raise self.fail(node, field, "expected a mapping of keys to values")
        values: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in values:
                raise self.fail(key_node, field, f"field '{key}' is given twice")
            if key not in required | optional:
                allowed = ", ".join(sorted(required | optional))
                raise self.fail(key_node, field, f"unknown field '{key}' (expected: {allowed})")
            values[key] = value_node
        for key in sorted(required - values.keys()):
            raise self.fail(node, field, f"missing required field '{key}'")
        return values

    def sequence(self, node: Node, field: str) -> list[Node]:
        """A list's items."""
        if not isinstance(node, SequenceNode):
            raise self.fail(node, field, "expected a list")
        return list(node.value)

    def string(self, node: Node, field: str) -> str:
        """A non-empty string."""
        if not isinstance(node, ScalarNode) or not str(node.value).strip():
            raise self.fail(node, field, "expected a non-empty text value")
        return str(node.value).strip()

    def strings(self, node: Node, field: str) -> list[str]:
        """A list of non-empty strings."""
        items = self.sequence(node, field)
        return [self.string(item, f"{field}[{i}]") for i, item in enumerate(items)]

    def choice(self, node: Node, field: str, choices: tuple[str, ...]) -> str:
        """One of ``choices`` (compared in lower case)."""
        value = self.string(node, field).lower()
        if value not in choices:
            raise self.fail(node, field, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def boolean(self, node: Node, field: str) -> bool:
        """``true`` or ``false``."""
        value = str(getattr(node, "value", "")).lower()
        if not isinstance(node, ScalarNode) or value not in {"true", "false", "yes", "no"}:
            raise self.fail(node, field, "expected true or false")
        return value in {"true", "yes"}

    def integer(self, node: Node, field: str, minimum: int = 0) -> int:
        """A whole number not below ``minimum``."""
        try:
            value = int(str(node.value))
        except (TypeError, ValueError):
            raise self.fail(node, field, "expected a whole number") from None
        if value < minimum:
            raise self.fail(node, field, f"expected a number of at least {minimum}")
        return value
