"""The OpenAPI document: valid 3.1, covering every route, rendered as a docs page, and fuzzed with
schemathesis through the WSGI app (no 5xx; every response matches the document)."""
import os
import re
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance,
    status_code_conformance,
)

from webapp.api.openapi import openapi_document
from webapp.auth.access import API
from webapp.models import Role
from webapp.services.comments import add_comment

FUZZ_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))  # raise it locally to fuzz harder


def test_document_is_valid_openapi_3_1(spec_checker):
    assert spec_checker.spec["openapi"].startswith("3.1")
    validate(spec_checker.spec)


def test_document_describes_exactly_the_key_routes(app, spec_checker):
    served = {
        (re.sub(r"<(\w+)>", lambda m: "{" + ("commentId" if m[1] == "comment_id" else m[1]) + "}", rule.rule),
         method.lower())
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access_policy", None) == API
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in spec_checker.spec["paths"].items() for method in item}
    assert served == documented


def test_document_requires_the_api_key_everywhere(spec_checker):
    assert spec_checker.spec["security"] == [{"ApiKey": []}]
    scheme = spec_checker.spec["components"]["securitySchemes"]["ApiKey"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-Api-Key"}


def test_n8n_body_is_the_documented_create_body(spec_checker, n8n_body):
    spec_checker.validate(n8n_body, "#/components/schemas/TicketCreate")


def test_docs_page_lists_every_operation(client, spec_checker):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path, item in spec_checker.spec["paths"].items():
        for method, operation in item.items():
            assert f'id="{operation["operationId"]}"' in page
            assert path in page
    assert "Idempotency-Key" in page and "dedupKey" in page and "X-Api-Key" in page
    assert "<script>" not in page and "style=" not in page


def test_served_document_is_the_one_fuzzed(spec_checker):
    assert spec_checker.spec == openapi_document()


# Built from the same dict the app serves (checked above); loaded at import so pytest gets one
# test per operation. (schemathesis' fixture-based loader does not yet support pytest 9.)
fuzz_schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def fuzz_target(app, make):
    """The app, a service key, and a real ticket and comment that some generated requests aim at."""
    service = make.user(role=Role.SERVICE)
    ticket = make.ticket(actor=service, cti=make.cti("Fuzz", "Target", "Item"))
    comment = add_comment(service, ticket, "fuzz me")
    return {"app": app, "key": service.plain_api_key,
            "real": {"ref": ticket.display_id, "commentId": str(comment.id)}}


@fuzz_schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=True,
    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
)
def test_fuzzed_requests_never_fail_and_match_the_document(case, fuzz_target):
    for name, real in fuzz_target["real"].items():
        if name in (case.path_parameters or {}) and zlib.crc32(str(case.path_parameters[name]).encode()) % 2:
            case.path_parameters[name] = real  # half the cases hit a real ticket or comment
    case.call_and_validate(
        app=fuzz_target["app"],
        headers={"X-Api-Key": fuzz_target["key"]},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_headers_conformance, response_schema_conformance],
    )
