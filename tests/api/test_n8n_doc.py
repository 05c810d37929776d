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


def _render(template: str, values: dict) -> str:
    """Evaluate the workflow's n8n expressions the simple way: each {{ … }} from `values`."""
    text = template.removeprefix("=")
    return EXPRESSION.sub(lambda m: values.get(m[0][2:-2].strip(), "expr"), text)


def test_workflow_chains_create_then_comment(workflow):
    assert workflow["connections"]["Start"]["main"][0][0]["node"] == "Create ticket"
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
    body = json.loads(_render(create["jsonBody"], {}))
    assert set(body) == set(n8n_body)
    placeholders = {"<TheWrightServer category ID>": "categoryId", "<Automation type ID>": "typeId",
                    "<Backup item ID>": "itemId", "<Goddard user ID>": "assigneeId"}
    body = {name: n8n_body[placeholders[value]] if value in placeholders else value for name, value in body.items()}
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
