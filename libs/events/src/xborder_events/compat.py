"""Which differences between two JSON Schemas of one event version break its consumers.

A published version may only widen: every message valid under the old schema must stay valid
under the new one and keep its meaning. Reported: a removed property (a rename is a removal), a
changed type or format, an enum or const that lost values, a property newly required, a tightened
pattern, length or bound. The comparison recurses into nested objects, array items and union
members (`anyOf`/`oneOf`, e.g. an optional field), following local `$ref`s such as
"#/$defs/Money" or "#/components/schemas/Money". An added optional property is not reported.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Each way `new_schema` breaks consumers of `old_schema`, as "path: what changed"."""
    comparison = _Comparison(old_schema, new_schema)
    comparison.compare(old_schema, new_schema, "")
    return comparison.problems


def _pointer(root: Schema, ref: str) -> Schema:
    """Follow a local JSON pointer such as "#/$defs/Money"."""
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = root
    for token in filter(None, ref[1:].split("/")):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point to a schema")
    return node


def _kinds(schema: Schema) -> frozenset[str]:
    """The JSON types a schema admits; empty means it does not say."""
    declared = schema.get("type")
    if isinstance(declared, str):
        kinds = {declared}
    elif isinstance(declared, list):
        kinds = set(declared)
    elif "const" in schema or "enum" in schema:
        values = [schema["const"]] if "const" in schema else schema["enum"]
        kinds = {
            _JSON_TYPES.get(type(v), "object" if isinstance(v, dict) else "array") for v in values
        }
    elif "properties" in schema:
        kinds = {"object"}
    elif "items" in schema or "prefixItems" in schema:
        kinds = {"array"}
    else:
        kinds = set()
    if "number" in kinds:
        kinds.add("integer")  # every integer is a number
    return frozenset(kinds)


def _values(schema: Schema) -> list[Any] | None:
    """The values an enum or const allows; None when it is not restricted to values."""
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _describe(kinds: frozenset[str]) -> str:
    named = sorted(kinds - {"integer"} if "number" in kinds else kinds)
    return " or ".join(named) if named else "anything"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Comparison:
    """One comparison: both roots (for $refs), the problems found, the $refs being followed."""

    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.roots = (old_root, new_root)
        self.problems: list[str] = []
        self._following: set[tuple[str, str]] = set()

    def report(self, path: str, problem: str) -> None:
        self.problems.append(f"{path or '(root)'}: {problem}")

    def resolve(self, schema: Schema, side: int) -> tuple[Schema, str]:
        """The schema behind $refs (sibling keywords kept) and the last $ref followed."""
        ref = ""
        for _ in range(64):  # a longer chain of bare $refs is a loop
            if "$ref" not in schema:
                return schema, ref
            ref = schema["$ref"]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**_pointer(self.roots[side], ref), **siblings}
        raise ValueError(f"$ref loop at {ref!r}")

    def variants(self, schema: Schema, side: int) -> list[Schema]:
        """The members of a union (nested unions flattened), or the schema itself."""
        members = schema.get("anyOf") or schema.get("oneOf")
        if not members:
            return [schema]
        found: list[Schema] = []
        for member in members:
            resolved, _ = self.resolve(member, side)
            found.extend(self.variants(resolved, side))
        return found

    @contextmanager
    def following(self, old_ref: str, new_ref: str) -> Iterator[bool]:
        """Yield False when this pair of $refs is already being compared (a recursive schema)."""
        pair = (old_ref, new_ref)
        if old_ref and new_ref and pair in self._following:
            yield False
            return
        self._following.add(pair)
        try:
            yield True
        finally:
            self._following.discard(pair)

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        """Compare two schemas at `path`, through $refs and unions."""
        (old, old_ref), (new, new_ref) = self.resolve(old, 0), self.resolve(new, 1)
        with self.following(old_ref, new_ref) as fresh:
            if not fresh:
                return
            old_variants, new_variants = self.variants(old, 0), self.variants(new, 1)
            if len(old_variants) == 1 and len(new_variants) == 1:
                self.compare_one(old, new, path)
                return
            for variant in old_variants:
                match = self.match(variant, new_variants)
                if match is None:
                    old_kinds = frozenset().union(*map(_kinds, old_variants))
                    new_kinds = frozenset().union(*map(_kinds, new_variants))
                    changed = f"{_describe(old_kinds)} to {_describe(new_kinds)}"
                    self.report(path, f"type changed from {changed}")
                    return
                self.compare_one(variant, match, path)

    @staticmethod
    def match(old: Schema, candidates: list[Schema]) -> Schema | None:
        """The member of a new union that takes over an old member: same types, else wider."""
        kinds = _kinds(old)
        for candidate in candidates:
            if _kinds(candidate) == kinds:
                return candidate
        for candidate in candidates:
            if not _kinds(candidate) or kinds <= _kinds(candidate):
                return candidate
        return None

    def compare_one(self, old: Schema, new: Schema, path: str) -> None:
        """Compare two schemas that are not unions."""
        old_kinds, new_kinds = _kinds(old), _kinds(new)
        if new_kinds and not old_kinds <= new_kinds:
            self.report(path, f"type changed from {_describe(old_kinds)} to {_describe(new_kinds)}")
            return
        self.compare_constraints(old, new, path)
        if "object" in new_kinds or "properties" in new:
            self.compare_objects(old, new, path)
        if "array" in new_kinds or "items" in new:
            self.compare_arrays(old, new, path)

    def compare_constraints(self, old: Schema, new: Schema, path: str) -> None:
        """Format, values, pattern and bounds: a change may only widen."""
        if old.get("format") != new.get("format"):
            formats = f"{old.get('format', 'none')} to {new.get('format', 'none')}"
            self.report(path, f"format changed from {formats}")
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            lost = [v for v in old_values or [] if v not in new_values]
            if old_values is None:
                self.report(path, f"now restricted to the values {new_values}")
            elif lost:
                self.report(path, f"values no longer allowed: {lost}")
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            self.report(path, f"pattern changed from {old.get('pattern')} to {new['pattern']}")
        for key in _LOWER_BOUNDS:
            if key in new and (key not in old or new[key] > old[key]):
                self.report(path, f"{key} raised from {old.get(key)} to {new[key]}")
        for key in _UPPER_BOUNDS:
            if key in new and (key not in old or new[key] < old[key]):
                self.report(path, f"{key} lowered from {old.get(key)} to {new[key]}")

    def compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        """Properties: none removed, none newly required, each compatible."""
        old_properties: Schema = old.get("properties", {})
        new_properties: Schema = new.get("properties", {})
        added = sorted(new_properties.keys() - old_properties.keys())
        for name, old_property in old_properties.items():
            if name in new_properties:
                self.compare(old_property, new_properties[name], _join(path, name))
            else:
                hint = f" (renamed to {' or '.join(added)}?)" if added else ""
                self.report(_join(path, name), f"property removed{hint}")
        old_required = set(old.get("required", []))
        for name in new.get("required", []):
            if name not in old_required:
                was = "existing property" if name in old_properties else "new property"
                self.report(_join(path, name), f"{was} is now required")
        if (
            new.get("additionalProperties") is False
            and old.get("additionalProperties") is not False
        ):
            self.report(path, "no longer accepts additional properties")

    def compare_arrays(self, old: Schema, new: Schema, path: str) -> None:
        """Array items, and tuple positions (prefixItems)."""
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.compare(old["items"], new["items"], f"{path}[]")
        for index, (old_item, new_item) in enumerate(
            zip(old.get("prefixItems", []), new.get("prefixItems", []), strict=False)
        ):
            self.compare(old_item, new_item, f"{path}[{index}]")
