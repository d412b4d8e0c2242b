"""The JSON Schema of the spec language, generated from the same Pydantic models the checker uses."""

from __future__ import annotations

from .schema import Spec


def spec_schema() -> dict:
    schema = Spec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://specc.dev/schema/v1.json"
    return schema
