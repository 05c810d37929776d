"""The OpenAPI document and a readable, server-rendered page generated from it."""
import json

from flask import jsonify, render_template

from ..auth.access import PUBLIC, access
from . import bp
from .openapi import openapi_document

METHODS = ("get", "post", "patch", "delete")


# Public on purpose: the API's shape is no secret, and a browser cannot send X-Api-Key.
@bp.get("/openapi.json")
@access(PUBLIC)
def openapi_json():
    return jsonify(openapi_document())


@bp.get("/docs")
@access(PUBLIC)
def api_docs():
    """Every operation with its parameters, body fields and responses, read off the OpenAPI document."""
    spec = openapi_document()
    sections = {tag["name"]: [] for tag in spec["tags"]}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                sections[item[method]["tags"][0]].append(_operation_view(spec, method, path, item[method]))
    schemas = [_schema_view(spec, name, schema) for name, schema in spec["components"]["schemas"].items()]
    return render_template("api/docs.html", spec=spec, sections=sections, schemas=schemas)


def _schema_view(spec: dict, name: str, schema: dict) -> dict:
    """A body's fields; request bodies mark the required ones, responses the sometimes-missing ones."""
    request = name.endswith(("Create", "Patch")) or not name
    required = set(schema.get("required", []))
    return {
        "name": name, "description": schema.get("description", ""),
        "fields": [
            {"name": field, "type": type_label(spec, sub), "description": sub.get("description", ""),
             "note": ("required" if field in required else "") if request else
                     ("" if field in required else "optional")}
            for field, sub in schema.get("properties", {}).items()
        ],
    }


def _operation_view(spec: dict, method: str, path: str, operation: dict) -> dict:
    body = operation.get("requestBody")
    media, body_content = next(iter(body["content"].items())) if body else (None, None)
    body_schema = _resolve(spec, body_content["schema"]) if body else None
    return {
        "id": operation["operationId"], "method": method.upper(), "path": path,
        "summary": operation["summary"], "description": operation["description"],
        "params": [
            {"name": p["name"], "in": p["in"], "required": p.get("required", False),
             "type": type_label(spec, p["schema"]), "description": p.get("description", "")}
            for p in operation["parameters"]
        ],
        "body": (_schema_name(body_content["schema"]) or media) if body else None,
        "fields": _schema_view(spec, "", body_schema)["fields"] if body_schema else [],
        "example": _example(body_schema),
        "responses": [
            {"status": status, "description": response["description"],
             "schema": _schema_name(response.get("content", {}).get("application/json", {}).get("schema"))}
            for status, response in sorted(operation["responses"].items())
        ],
    }


def _example(schema: dict | None) -> str | None:
    """The schema's first example as indented JSON, keys in the documented order."""
    examples = (schema or {}).get("examples")
    return json.dumps(examples[0], indent=2, ensure_ascii=False) if examples else None


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][_schema_name(schema)]
    return schema


def _schema_name(schema: dict | None) -> str | None:
    return schema["$ref"].rsplit("/", 1)[-1] if schema and "$ref" in schema else None


def type_label(spec: dict, schema: dict) -> str:
    """A short reading of a schema: "string or integer", "OPEN | IN_PROGRESS", "list of integer"."""
    if "$ref" in schema:
        return _schema_name(schema)
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "oneOf" in schema:
        return " or ".join(type_label(spec, option) for option in schema["oneOf"])
    types = schema.get("type", "any")
    label = " or ".join(types) if isinstance(types, list) else types
    if label == "array":
        label = "list of " + type_label(spec, schema.get("items", {}))
    bounds = [f"{word} {schema[key]}" for key, word in (("minimum", "min"), ("maximum", "max"),
                                                          ("maxLength", "max length")) if key in schema]
    return f"{label} ({', '.join(bounds)})" if bounds else label
