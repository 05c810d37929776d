"""The OpenAPI document: valid 3.1, covering every route, rendered as a docs page, and fuzzed with
schemathesis through the WSGI app (no 5xx; every response matches the document)."""
import itertools
import os
import re
import zlib
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate

from webapp.api.openapi import TICKET_REF, openapi_document
from webapp.auth.access import API
from webapp.models import Role
from webapp.services.comments import add_comment
from webapp.services.saved_views import create_view

FUZZ_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))  # raise it locally to fuzz harder


def test_document_is_valid_openapi_3_1(spec_checker):
    assert spec_checker.spec["openapi"].startswith("3.1")
    validate(spec_checker.spec)


def test_document_describes_exactly_the_key_routes(app, spec_checker):
    served = {
        (re.sub(r"<(\w+)>", lambda m: "{" + re.sub(r"_(\w)", lambda n: n[1].upper(), m[1]) + "}", rule.rule),
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
# Every built-in check runs (5xx, status codes, content types, headers, body schemas, invalid input
# refused, auth enforced, 405s with Allow, use after delete, ...) except positive_data_acceptance:
# a schema-valid request may still name a ticket, cursor or CTI id that does not exist (404/422).
fuzz_schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])
# The stateful run follows the document's own links only (inferred ones guess ticket refs wrongly).
fuzz_schema.config.phases.stateful.inference.algorithms = []
BUDGET = {"deadline": timedelta(seconds=5), "database": None, "derandomize": True,
          "suppress_health_check": list(HealthCheck)}


@pytest.fixture
def fuzz_target(app, make, monkeypatch):
    """The app, a service key, and real rows (ticket, comment, CTI chain, view) generated requests aim at."""
    service = make.user(role=Role.SERVICE)
    category, cti_type, item = make.cti("Fuzz", "Target", "Item")
    ticket = make.ticket(actor=service, cti=(category, cti_type, item))
    comment = add_comment(service, ticket, "fuzz me")
    monkeypatch.setattr("webapp.services.saved_views.VIEWS_MAX", 10_000)  # every step may save one
    view = create_view(service, name="Fuzz view", filters={"severity": "1,2"})
    return {"app": app, "key": service.plain_api_key,
            "path": {"ref": ticket.display_id, "commentId": str(comment.id), "viewId": str(view.id)},
            "body": {"categoryId": str(category.id), "typeId": str(cti_type.id), "itemId": str(item.id),
                     "assigneeId": str(service.id)}}


VIEW_NAMES = itertools.count()
SEQUENCES = itertools.count()


def _aim_at_real_rows(case, target, *, linked=False) -> None:
    """Give the case a valid key and ids of rows that exist: the documented example ref, and about
    half the generated ids, so both the found and the not-found paths run. Linked (stateful) calls
    keep the refs their links fed them, always get a real CTI chain and a view name of their own, so
    creates succeed whatever earlier steps made."""
    def pick(value) -> bool:
        return linked or value == TICKET_REF["example"] or zlib.crc32(str(value).encode()) % 2 == 1

    for name, value in (case.path_parameters or {}).items():
        if name in target["path"] and not linked and pick(value):
            case.path_parameters[name] = target["path"][name]
    positive = case.meta is None or not case.meta.generation.mode.is_negative
    if positive and isinstance(case.body, dict) and "itemId" in case.body and pick(case.body["itemId"]):
        case.body.update({name: real for name, real in target["body"].items() if name in case.body})
    if linked and positive and isinstance(case.body, dict) and "name" in case.body \
            and case.operation.path.startswith("/api/views"):
        case.body["name"] = f"Linked view {next(VIEW_NAMES)}"
    if linked:
        _keys_of_this_sequence(case, target["sequence"])
    if "X-Api-Key" in (case.headers or {}):  # cases that leave the key out must still get 401
        case.headers["X-Api-Key"] = target["key"]
    case.operation.schema.app = target["app"]  # checks that re-send (e.g. without the key) go to it too


def _keys_of_this_sequence(case, sequence: int) -> None:
    """Suffix the generated dedupKey and Idempotency-Key with the sequence's number (fixed width, so
    a key's validity does not depend on it): equal keys still meet within one sequence, never across."""
    suffix = f"~{sequence:06d}"
    if isinstance(case.body, dict) and isinstance(case.body.get("dedupKey"), str):
        case.body["dedupKey"] += suffix
    if isinstance((case.headers or {}).get("Idempotency-Key"), str):
        case.headers["Idempotency-Key"] += suffix


@fuzz_schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, phases=[Phase.explicit, Phase.generate], **BUDGET)
def test_fuzzed_requests_never_fail_and_match_the_document(case, fuzz_target):
    _aim_at_real_rows(case, fuzz_target)
    case.call_and_validate(app=fuzz_target["app"])


def test_linked_calls_never_fail_and_match_the_document(fuzz_target):
    """Sequences that follow the document's links: create, then read, patch, comment, delete, audit."""
    class Workflow(fuzz_schema.as_state_machine()):
        def setup(self):
            """Each sequence starts with a full rate budget, as each test does (conftest), and its own
            dedup and idempotency keys: a 429, a dedup hit (200 for 201) or a reused key (422) that
            depends on which sequences ran before would make the same steps answer differently, which
            Hypothesis reports as a flaky strategy."""
            fuzz_target["app"].extensions["rate_limiter"].reset()
            fuzz_target["sequence"] = next(SEQUENCES)

        def before_call(self, case):
            _aim_at_real_rows(case, fuzz_target, linked=True)

        def get_call_kwargs(self, case):
            return {"app": fuzz_target["app"]}

    Workflow.run(settings=settings(max_examples=3 * FUZZ_EXAMPLES, stateful_step_count=6, **BUDGET))
