"""Reading YAML with line numbers, so configuration errors can name the line and the field."""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# "UTC+3", "UTC-06:00", "GMT+05:30", "+03:00", "-0600": hours (and minutes) east of UTC.
UTC_OFFSET = re.compile(r"(?:utc|gmt)?\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})"
                        r"(?::?(?P<minutes>\d{2}))?", re.IGNORECASE)


class ConfigError(Exception):
    """A configuration file is wrong; the message names the file, the line and the field."""


def parse_time_zone(value: str | tzinfo | None) -> tzinfo:
    """A time zone: an IANA name (``Europe/Kyiv``) or an offset from UTC (``UTC+3``,
    ``UTC-06:00``, ``GMT+05:30``, ``+03:00``); ``None``, empty, ``UTC`` or ``GMT`` is UTC.
    ``ValueError`` for anything else."""
    if isinstance(value, tzinfo):
        return value
    text = str(value or "").strip()
    if not text or text.upper() in ("UTC", "GMT", "Z"):
        return UTC
    if match := UTC_OFFSET.fullmatch(text):
        hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ValueError(f"time zone offset {text!r} is out of range (UTC-14:00 to "
                             f"UTC+14:00)")
        offset = timedelta(hours=hours, minutes=minutes)
        return timezone(-offset if match["sign"] == "-" else offset)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {text!r} (expected an IANA name such as "
                         f"'Europe/Kyiv' or an offset such as 'UTC+03:00')") from None


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

    def time_zone(self, node: Node, field: str) -> str:
        """A time zone :func:`parse_time_zone` reads, as written."""
        value = self.string(node, field)
        try:
            parse_time_zone(value)
        except ValueError as error:
            raise self.fail(node, field, str(error)) from None
        return value

    def integer(self, node: Node, field: str, minimum: int = 0) -> int:
        """A whole number not below ``minimum``."""
        try:
            value = int(str(node.value))
        except (TypeError, ValueError):
            raise self.fail(node, field, "expected a whole number") from None
        if value < minimum:
            raise self.fail(node, field, f"expected a number of at least {minimum}")
        return value
