"""docs/n8n.md stays true: its workflow imports as n8n expects and its requests work against the API."""
import json
import re
from pathlib import Path

import pytest

from webapp.services.tickets import change_status

DOC = Path(__file__).resolve().parents[2] / "docs" / "n8n.md"
EXPRESSION = re.compile(r"\{\{.*?\}\}")


@pytest.fixture(scope="module")
def workflow() -> dict:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(), re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def _node(workflow, name):
    return next(node for node in workflow["nodes"] if node["name"] == name)


NODE_OUTPUT = re.compile(r"\$\('(?P<node>[^']+)'\)\.item\.json\.(?P<field>\w+)")
VOLATILE = re.compile(r"\$now|\$today|Date\.now|new Date")  # a new value each time n8n evaluates it


def _render(template: str, values: dict, *, workflow=None, attempt: int = 1) -> str:
    """Evaluate the workflow's n8n expressions as n8n would on try number `attempt` of a node: each
    {{ … }} from `values`; `$('Node').item.json.field` is what that node output once in this run;
    a volatile expression ($now, …) differs from try to try, since n8n evaluates it again."""
    def evaluate(match) -> str:
        expression = match[0][2:-2].strip()
        if expression in values:
            return values[expression]
        if (output := NODE_OUTPUT.fullmatch(expression)) and workflow is not None:
            return _node_output(workflow, output["node"], output["field"])
        return f"changes on try {attempt}" if VOLATILE.search(expression) else "expr"

    return EXPRESSION.sub(evaluate, template.removeprefix("="))


def _node_output(workflow, name: str, field: str) -> str:
    """A Set node's field, as it ran once at the start of the run (before any retry downstream)."""
    assignments = _node(workflow, name)["parameters"]["assignments"]["assignments"]
    value = next(item["value"] for item in assignments if item["name"] == field)
    return _render(value, {}, workflow=workflow, attempt=0)


PLACEHOLDERS = {"<TheWrightServer category ID>": "categoryId", "<Automation type ID>": "typeId",
                "<Backup item ID>": "itemId", "<Goddard user ID>": "assigneeId"}


def _filled(body: dict, n8n_body: dict) -> dict:
    """The body with its `<… ID>` placeholders replaced by the ids step 2 of the doc looks up."""
    return {name: n8n_body[PLACEHOLDERS[value]] if value in PLACEHOLDERS else value for name, value in body.items()}


def test_workflow_chains_create_then_comment(workflow):
    assert workflow["connections"]["Start"]["main"][0][0]["node"] == "Stamp"
    assert workflow["connections"]["Stamp"]["main"][0][0]["node"] == "Create ticket"
    assert workflow["connections"]["Create ticket"]["main"][0][0]["node"] == "Comment on ticket"
    for name in ("Create ticket", "Comment on ticket"):
        node = _node(workflow, name)
        assert node["type"] == "n8n-nodes-base.httpRequest"
        assert node["parameters"]["authentication"] == "genericCredentialType"
        assert node["parameters"]["genericAuthType"] == "httpHeaderAuth"
        assert "httpHeaderAuth" in node["credentials"]
        headers = {h["name"] for h in node["parameters"]["headerParameters"]["parameters"]}
        assert headers == {"Idempotency-Key"}, "the key goes in the credential, never in the workflow"


def test_workflow_requests_work_against_the_api(api, workflow, n8n_body):
    create = _node(workflow, "Create ticket")["parameters"]
    body = json.loads(_render(create["jsonBody"], {}, workflow=workflow))
    assert set(body) == set(n8n_body)
    body = _filled(body, n8n_body)
    key = _render(create["headerParameters"]["parameters"][0]["value"], {"$execution.id": "981"})
    path = create["url"].removeprefix("http://127.0.0.1:5000")

    created = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert created.status_code == 201, created.get_json()
    retried = api.post(path, json=body, headers={"Idempotency-Key": key})
    assert retried.get_json()["id"] == created.get_json()["id"]

    comment = _node(workflow, "Comment on ticket")["parameters"]
    url = _render(comment["url"], {"$json.displayId": created.get_json()["displayId"]})
    posted = api.post(url.removeprefix("http://127.0.0.1:5000"),
                      json=json.loads(_render(comment["jsonBody"], {"$execution.id": "981"})))
    assert posted.status_code == 201
    assert posted.get_json()["body"] == "Backup archive verified by n8n execution 981."


def test_a_retried_create_sends_the_same_body_and_gets_the_first_answer(api, workflow, n8n_body):
    """n8n evaluates the node's expressions again on each try; the Idempotency-Key stays the same,
    so the body must too, or the retry gets 422 instead of the ticket the first try made."""
    create = _node(workflow, "Create ticket")["parameters"]
    bodies = [_render(create["jsonBody"], {}, workflow=workflow, attempt=attempt) for attempt in (1, 2)]
    assert bodies[0] == bodies[1], "a retry would change the body under the same Idempotency-Key"
    body = _filled(json.loads(bodies[0]), n8n_body)
    key = _render(create["headerParameters"]["parameters"][0]["value"], {"$execution.id": "982"})
    first = api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
    again = api.post("/api/tickets", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]


def test_doc_mentions_every_lookup_route():
    text = DOC.read_text()
    for route in ("/api/cti/categories", "/api/cti/types?categoryId=", "/api/cti/items?typeId=", "/api/users"):
        assert route in text


def test_documented_bulk_calls_work_against_the_api(api, make, keys):
    """The curl examples' bodies, their example ids swapped for real ones."""
    bodies = [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", DOC.read_text()) if '"changes"' in body]
    listed, filtered = bodies
    category, cti_type, item = make.cti("Docs", "Bulk", "example")
    tickets = [make.ticket(cti=(category, cti_type, item), severity=5) for _ in range(2)]
    listed["tickets"] = [t.display_id for t in tickets]
    answer = api.post("/api/tickets/bulk", json=listed)
    assert answer.status_code == 200 and answer.get_json() == {"updated": listed["tickets"], "failed": []}
    filtered["filter"]["categoryId"], filtered["changes"]["assigneeId"] = str(category.id), str(keys.service.id)
    for ticket in tickets:  # re-opened: the filter example takes OPEN ones
        change_status(ticket.creator, ticket, "OPEN")
    job = api.post("/api/tickets/bulk", json=filtered)
    assert job.status_code == 202
    assert api.get(job.headers["Location"]).get_json()["updated"] == listed["tickets"]
    assert "/api/bulk/" in DOC.read_text()
