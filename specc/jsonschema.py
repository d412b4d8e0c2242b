"""The JSON Schema of the spec language, generated from the same Pydantic models the checker uses.

Pydantic describes the canonical (mapping) forms; the short forms that the
models' before-validators accept are added here, so editors accept exactly
what `specc validate` accepts: a bare layer name (`- Flatten`) for kinds whose
arguments are all optional, `optimizer: adam`, and `loss: mse` (also per output: `loss: {digit: mse}`).
"""

from __future__ import annotations

from .layers import REGISTRY
from .schema import Spec
from .schema.compile import LOSS_ALIASES, LOSSES, OPTIMIZERS

SCHEMA_ID = "https://specc.dev/schema/v1.json"
# What `specc init` and `specc import` write: the schema as a file beside the spec, named by a modeline that
# yaml-language-server (VS Code, Neovim, Helix, ...) reads, relative to the spec (docs/editors.md).
SCHEMA_FILE = "specc.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"


def _with_short_form(node: dict, names: list[str], description: str) -> dict:
    short = {"type": "string", "enum": names, "description": description}
    rest = {k: v for k, v in node.items() if k not in ("description", "title")}
    out = {k: v for k, v in node.items() if k in ("description", "title")}
    out["anyOf"] = [rest, short]
    return out


VARIABLE = {"type": "string", "pattern": r"^\s*\$\{[^{}]*\}\s*$", "description": "A variable or block "
            "parameter, `${name}` (docs/graphs.md#variables)."}


def _allow_variables(node):
    """Every number, boolean or fixed word may be written as `${...}` (vars, block parameters)."""
    if isinstance(node, list):
        return [_allow_variables(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _allow_variables(v) for k, v in node.items()}
    if node.get("type") in ("integer", "number", "boolean") or "enum" in node:
        keep = {k: v for k, v in node.items() if k in ("description", "title", "default")}
        rest = {k: v for k, v in node.items() if k not in keep}
        return {**keep, "anyOf": [rest, VARIABLE]}
    return node


def spec_schema() -> dict:
    schema = Spec.model_json_schema(mode="validation")
    props = schema["properties"]
    bare = sorted(name for name, model in REGISTRY.items()
                  if all(not f.is_required() for key, f in model.model_fields.items() if key != "type"))
    props["layers"]["items"] = _with_short_form(props["layers"]["items"], bare, "A layer without arguments.")
    compile_props = schema["$defs"]["Compile"]["properties"]
    optimizers = sorted({*OPTIMIZERS, *(n.lower() for n in OPTIMIZERS)})
    compile_props["optimizer"] = _with_short_form(compile_props["optimizer"], optimizers, "An optimizer name.")
    loss_names = [*LOSSES, *LOSS_ALIASES]
    # One loss per output (`loss: {digit: mse}`): each takes the short form too. `{type: mse}` then also reads
    # as a mapping of outputs, so the two forms are alternatives (anyOf), not exclusive (oneOf).
    if "Losses" in schema["$defs"]:
        schema["$defs"]["Losses"]["additionalProperties"] = {
            "anyOf": [{"$ref": "#/$defs/Loss"}, {"type": "string", "enum": loss_names, "description": "A loss name."}]}
    if "oneOf" in compile_props["loss"]:
        compile_props["loss"]["anyOf"] = compile_props["loss"].pop("oneOf")
    compile_props["loss"] = _with_short_form(compile_props["loss"], loss_names, "A loss name.")
    _search_short_forms(schema["$defs"])
    if schema.get("required"):  # a spec that extends a base may leave out what the base gives
        schema["anyOf"] = [{"required": ["extends"]}, {"required": schema.pop("required")}]
    schema = _allow_variables(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    """The schema as the JSON file `specc schema` writes."""
    import json

    return json.dumps(spec_schema(), indent=2) + "\n"


def with_modeline(text: str) -> str:
    """Spec text whose first line names the schema for editors."""
    return f"{MODELINE}\n{text}"


def _search_short_forms(defs: dict) -> None:
    """`sampler: grid`, `pruner: median`, and a bare list for a categorical choice in the space."""
    search = defs["Search"]["properties"]
    for key, model in (("sampler", "Sampler"), ("pruner", "Pruner")):
        names = list(defs[model]["properties"]["type"]["enum"])
        search[key] = _with_short_form(search[key], names, f"A {key} name.")
    space = search["space"]["additionalProperties"]
    search["space"]["additionalProperties"] = {"anyOf": [space, {"type": "array", "minItems": 1,
                                                                  "description": "The choices (categorical)."}]}
