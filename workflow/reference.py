"""The reference that cannot drift: the definition schema as JSON Schema, and the role identifiers.

Both are generated from what the loader enforces (the definition classes as pydantic validates
them, and the requirement registry), so an editor validating protocol files as people type, the
README and the loader agree by construction. The JSON Schema describes files as people write them: requirements
in their compact forms (``- lead_allocated``, ``- fact_recorded: home_visit``, ``- any_of:
[...]``), ``from:`` as one state or a list, ``version:`` as a number or a text; the fields
the loader fills in itself (``origin``, ``digest``, ``files``, ``lineage``) are left out, and
only ``name`` and ``version`` are required, since a file that extends another gives only what
it adds or changes (the loader checks the merged whole).
"""
from __future__ import annotations

import copy
from typing import Any

from .requirements import REGISTRY
from .roles import ROLES, SOCIAL_WORK_ROLES, role_label

__all__ = ["definition_schema", "roles_markdown", "SCHEMA_ID"]

SCHEMA_ID = "https://casework.invalid/schema/definition.json"
#: fields the loader sets, never written in a file
_FILLED_IN = ("origin", "digest", "files", "lineage")
_META = ("kind", "rules", "says", "origin")


def _requirement_forms(defs: dict[str, Any]) -> dict[str, Any]:
    """The compact YAML forms of every requirement kind, as one JSON Schema."""
    forms: list[dict[str, Any]] = []
    bare = []
    for kind, cls in sorted(REGISTRY.items()):
        model = defs[cls.__name__]
        params = {k: v for k, v in model.get("properties", {}).items() if k not in _META}
        required = [k for k in model.get("required", []) if k not in _META]
        meta = {k: model["properties"][k] for k in ("rules", "says")}
        if not required:
            bare.append(kind)
        shapes: list[dict[str, Any]] = [{"type": "object", "properties": {**params, **meta}, "required": required,
                                         "additionalProperties": False}]
        if not required:
            shapes.append({"type": "null"})
        if cls.primary is not None:
            shapes.append(params[cls.primary])
        forms.append({"type": "object", "properties": {kind: {"anyOf": shapes}, **meta}, "required": [kind],
                      "additionalProperties": False, "description": (model.get("description") or "").strip()})
    return {"anyOf": [{"type": "string", "enum": bare}, *forms]}


def _rewrite(node: Any, partial: bool) -> Any:
    """Requirements by reference to their compact forms, filled-in fields left out; with *partial*, nothing
    required (a file that extends another gives only what it adds or changes, at any depth)."""
    if isinstance(node, dict):
        if isinstance(node.get("discriminator"), dict) and node["discriminator"].get("propertyName") == "kind":
            return {"$ref": "#/$defs/Requirement"}
        out = {k: _rewrite(v, partial) for k, v in node.items()}
        if isinstance(out.get("properties"), dict):
            for name in _FILLED_IN:
                out["properties"].pop(name, None)
            if "required" in out:
                out["required"] = [r for r in out["required"] if r not in _FILLED_IN and not partial]
                if not out["required"]:
                    del out["required"]
        return out
    if isinstance(node, list):
        return [_rewrite(v, partial) for v in node]
    return node


def definition_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of a protocol definition file, as written."""
    from .schema import json_schema  # pydantic builds it

    raw = json_schema()
    defs = raw.pop("$defs")
    forms = _requirement_forms(copy.deepcopy(defs))
    schema = _rewrite({**raw, "$defs": defs}, partial=True)
    schema["$defs"]["Requirement"] = _rewrite(forms, partial=False)  # a requirement's own parameters stay required
    for cls in REGISTRY.values():  # reached only through the compact forms now
        schema["$defs"].pop(cls.__name__, None)
    props = schema["properties"]
    props["version"] = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 64}, {"type": "integer"},
                                  {"type": "number"}], "title": "Version"}
    event = schema["$defs"]["EventDef"]["properties"]
    event["from"] = {"anyOf": [event["from"], event["from"]["items"]], "title": "From"}
    schema["required"] = ["name", "version"]
    schema["patternProperties"] = {"^x-": {}}  # YAML anchors a file keeps for itself (the loader drops them)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "casework protocol definition", **schema}


def roles_markdown() -> str:
    """The README's table of role identifiers: every role a person may hold, and which can be qualified."""
    lines = ["| role identifier | in words | social-work-qualified when registered |", "| --- | --- | --- |"]
    lines += [f"| `{role}` | {role_label(role)} | {'yes' if role in SOCIAL_WORK_ROLES else 'never'} |"
              for role in ROLES]
    return "\n".join(lines) + "\n"
