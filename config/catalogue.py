"""The catalogue: own brands, competitors, their products, and the customer-journey touchpoints.

Loaded from ``data/catalogue.yaml``, which users edit for their own industry. Every mistake
in the file becomes a ``ConfigError`` naming the line and the field.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node

from config.defaults import default_data_file
from config.yaml_nodes import ConfigError, NodeReader

DEFAULT_CATALOGUE = default_data_file("catalogue.yaml")
LANGUAGES = ("ru", "uk", "en")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class OfficialAccount:
    """A brand's own account (support, staff) on one source: not a customer."""

    source: str
    handle: str


@dataclass(frozen=True)
class Brand:
    """A brand; ``own`` is False for competitors.

    ``ambiguous`` aliases are also common words ("волна" is a wave): they count as the
    brand only when one of the ``context`` words is near. ``official_accounts``: the
    brand's own accounts, left out of advocates, customers at risk and social NPS.
    """

    id: str
    name: str
    own: bool
    aliases: tuple[str, ...]
    products: tuple[Product, ...] = ()
    ambiguous: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    # not part of the fingerprint: tagging does not depend on who the brand's accounts are
    official_accounts: tuple[OfficialAccount, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Touchpoint:
    """A step of the customer journey with cue phrases per language."""

    id: str
    name: str
    description: str
    cues: dict[str, tuple[str, ...]] = field(default_factory=dict)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    industry: str
    brands: tuple[Brand, ...]
    touchpoints: tuple[Touchpoint, ...]

    @property
    def own_brands(self) -> tuple[Brand, ...]:
        return tuple(brand for brand in self.brands if brand.own)

    @property
    def competitors(self) -> tuple[Brand, ...]:
        return tuple(brand for brand in self.brands if not brand.own)

    @property
    def fingerprint(self) -> str:
        """A stable hash of the whole catalogue: taggers re-tag when it changes."""
        return hashlib.sha1(repr(self).encode("utf-8")).hexdigest()[:16]

    def brand(self, brand_id: str) -> Brand:
        """The brand with this id; ``KeyError`` names the known ids."""
        for brand in self.brands:
            if brand.id == brand_id:
                return brand
        raise KeyError(f"no brand {brand_id!r}; known: {', '.join(b.id for b in self.brands)}")

    def touchpoint(self, touchpoint_id: str) -> Touchpoint:
        """The touchpoint with this id; ``KeyError`` names the known ids."""
        for touchpoint in self.touchpoints:
            if touchpoint.id == touchpoint_id:
                return touchpoint
        known = ", ".join(t.id for t in self.touchpoints)
        raise KeyError(f"no touchpoint {touchpoint_id!r}; known: {known}")


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE) -> Catalogue:
    """Read and validate a catalogue file."""
    return _CatalogueParser(NodeReader(Path(path))).parse()


class _CatalogueParser:
    def __init__(self, reader: NodeReader):
        self.reader = reader
        self.ids: dict[str, int] = {}
        self.aliases: dict[str, tuple[str, int]] = {}

    def parse(self) -> Catalogue:
        r = self.reader
        root = r.load()
        top = r.mapping(root, "catalogue", {"industry", "brands", "touchpoints"}, {"competitors"})
        brands = [self._brand(n, f"brands[{i}]", own=True)
                  for i, n in enumerate(r.sequence(top["brands"], "brands"))]
        if not brands:
            raise r.fail(top["brands"], "brands", "list at least one own brand")
        if "competitors" in top:
            brands += [self._brand(n, f"competitors[{i}]", own=False)
                       for i, n in enumerate(r.sequence(top["competitors"], "competitors"))]
        touchpoint_nodes = r.sequence(top["touchpoints"], "touchpoints")
        touchpoints = [self._touchpoint(n, f"touchpoints[{i}]")
                       for i, n in enumerate(touchpoint_nodes)]
        if not touchpoints:
            raise r.fail(top["touchpoints"], "touchpoints", "list at least one touchpoint")
        return Catalogue(r.string(top["industry"], "industry"), tuple(brands), tuple(touchpoints))

    def _id(self, node: Node, field: str) -> str:
        value = self.reader.string(node, field)
        if not ID_PATTERN.match(value):
            raise self.reader.fail(
                node, field, f"id {value!r} must be lower-case letters, digits, '-' or '_'"
            )
        line = node.start_mark.line + 1
        if value in self.ids:
            raise self.reader.fail(
                node, field, f"id {value!r} is already used (line {self.ids[value]})"
            )
        self.ids[value] = line
        return value

    def _aliases(self, node: Node, field: str, owner: str) -> tuple[str, ...]:
        aliases = self.reader.strings(node, field)
        for i, (alias, alias_node) in enumerate(zip(aliases, node.value, strict=True)):
            key = alias.casefold()
            if key in self.aliases:
                other, line = self.aliases[key]
                raise self.reader.fail(
                    alias_node,
                    f"{field}[{i}]",
                    f"alias {alias!r} is already used by {other!r} (line {line})",
                )
            self.aliases[key] = (owner, alias_node.start_mark.line + 1)
        return tuple(aliases)

    def _brand(self, node: Node, field: str, *, own: bool) -> Brand:
        r = self.reader
        values = r.mapping(
            node, field, {"id", "name", "aliases"},
            {"products", "ambiguous", "context", "official_accounts"}
        )
        brand_id = self._id(values["id"], f"{field}.id")
        aliases = self._aliases(values["aliases"], f"{field}.aliases", brand_id)
        ambiguous = tuple(r.strings(values["ambiguous"], f"{field}.ambiguous")) \
            if "ambiguous" in values else ()
        known = {alias.casefold() for alias in aliases}
        for i, alias in enumerate(ambiguous):
            if alias.casefold() not in known:
                raise r.fail(values["ambiguous"].value[i], f"{field}.ambiguous[{i}]",
                             f"{alias!r} is not one of the brand's aliases")
        context = tuple(r.strings(values["context"], f"{field}.context")) \
            if "context" in values else ()
        if ambiguous and not context:
            raise r.fail(node, field, "ambiguous aliases need 'context' words")
        products = ()
        if "products" in values:
            products = tuple(
                self._product(item, f"{field}.products[{i}]")
                for i, item in enumerate(r.sequence(values["products"], f"{field}.products"))
            )
        official = ()
        if "official_accounts" in values:
            official = tuple(
                self._official(item, f"{field}.official_accounts[{i}]")
                for i, item in enumerate(r.sequence(values["official_accounts"],
                                                    f"{field}.official_accounts"))
            )
        return Brand(brand_id, r.string(values["name"], f"{field}.name"), own, aliases,
                     products, ambiguous, context, official)

    def _official(self, node: Node, field: str) -> OfficialAccount:
        """``{source: <source id>, handle: <the account's handle there>}``."""
        if not isinstance(node, MappingNode):
            raise self.reader.fail(node, field, "expected {source: <source id>, handle: <handle>}")
        values = self.reader.mapping(node, field, {"source", "handle"})
        return OfficialAccount(self.reader.string(values["source"], f"{field}.source"),
                               self.reader.string(values["handle"], f"{field}.handle"))

    def _product(self, node: Node, field: str) -> Product:
        values = self.reader.mapping(node, field, {"id", "name", "aliases"})
        product_id = self._id(values["id"], f"{field}.id")
        return Product(
            product_id,
            self.reader.string(values["name"], f"{field}.name"),
            self._aliases(values["aliases"], f"{field}.aliases", product_id),
        )

    def _touchpoint(self, node: Node, field: str) -> Touchpoint:
        r = self.reader
        values = r.mapping(node, field, {"id", "name", "description", "cues"}, {"examples"})
        cues = self._per_language(values["cues"], f"{field}.cues", "cue phrases")
        examples = self._per_language(values["examples"], f"{field}.examples", "examples") \
            if "examples" in values else {}
        return Touchpoint(
            self._id(values["id"], f"{field}.id"),
            r.string(values["name"], f"{field}.name"),
            r.string(values["description"], f"{field}.description"),
            cues,
            examples,
        )

    def _per_language(self, node: Node, field: str, what: str) -> dict[str, tuple[str, ...]]:
        r = self.reader
        by_language = r.mapping(node, field, set(), set(LANGUAGES))
        if not by_language:
            raise r.fail(node, field, f"give {what} for at least one of {', '.join(LANGUAGES)}")
        return {lang: tuple(r.strings(item, f"{field}.{lang}"))
                for lang, item in by_language.items()}


__all__ = ["Brand", "Catalogue", "ConfigError", "OfficialAccount", "Product", "Touchpoint",
           "load_catalogue"]
