"""Check a real response against the OpenAPI document the app serves: status documented, body valid."""
import re
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:ticketing:openapi"


class SpecChecker:
    def __init__(self, spec: dict):
        self.spec = spec
        self.registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
        self.templates = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in spec["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict] | tuple[None, None]:
        for pattern, template in self.templates:
            if pattern.match(path):
                return template, self.spec["paths"][template].get(method.lower())
        return None, None

    def check(self, method: str, path: str, response) -> None:
        """Raise AssertionError unless the response is what the document promises for this request."""
        path = urlsplit(path).path
        template, operation = self.operation(method, path)
        if operation is None:  # no such route or method: still the one error shape
            assert response.status_code in (404, 405), (method, path, response.status_code)
            self.validate(response.get_json(), "#/components/schemas/Error")
            return
        status = str(response.status_code)
        documented = operation["responses"]
        assert status in documented, f"{method} {template} answered undocumented {status}: {response.data[:300]!r}"
        content = documented[status].get("content")
        if content is None:
            assert response.data == b"", f"{method} {template} {status} should have no body"
            return
        if "application/json" not in content:  # a file's bytes: any type, never JSON the document describes
            assert "application/octet-stream" in content and response.mimetype != "application/json", (method, template)
            return
        assert response.mimetype == "application/json", (method, template, status, response.mimetype)
        pointer = "/".join(
            part.replace("~", "~0").replace("/", "~1")
            for part in ("paths", template, method.lower(), "responses", status, "content", "application/json")
        )
        self.validate(response.get_json(), f"#/{pointer}/schema")

    def validate(self, instance, pointer: str) -> None:
        schema = {"$ref": f"{SPEC_URI}{pointer}"}
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
