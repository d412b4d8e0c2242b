"""The JSON Schema of the spec language, generated from the same Pydantic models the checker uses.

Pydantic describes the canonical (mapping) forms; the short forms that the
models' before-validators accept are added here, so editors accept exactly
what `specc validate` accepts: a bare layer name (`- Flatten`) for kinds whose
arguments are all optional, `optimizer: adam`, and `loss: mse`.
"""

from __future__ import annotations

from .layers import REGISTRY
from .schema import Spec
from .schema.compile import LOSS_ALIASES, LOSSES, OPTIMIZERS

SCHEMA_ID = "https://specc.dev/schema/v1.json"


def _with_short_form(node: dict, names: list[str], description: str) -> dict:
    short = {"type": "string", "enum": names, "description": description}
    rest = {k: v for k, v in node.items() if k not in ("description", "title")}
    out = {k: v for k, v in node.items() if k in ("description", "title")}
    out["anyOf"] = [rest, short]
    return out


def spec_schema() -> dict:
    schema = Spec.model_json_schema(mode="validation")
    props = schema["properties"]
    bare = sorted(name for name, model in REGISTRY.items()
                  if all(not f.is_required() for key, f in model.model_fields.items() if key != "type"))
    props["layers"]["items"] = _with_short_form(props["layers"]["items"], bare, "A layer without arguments.")
    compile_props = schema["$defs"]["Compile"]["properties"]
    optimizers = sorted({*OPTIMIZERS, *(n.lower() for n in OPTIMIZERS)})
    compile_props["optimizer"] = _with_short_form(compile_props["optimizer"], optimizers, "An optimizer name.")
    compile_props["loss"] = _with_short_form(compile_props["loss"], [*LOSSES, *LOSS_ALIASES], "A loss name.")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
