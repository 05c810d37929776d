"""PATCH /api/tickets/{ref}/comments/{id}: the key's own comment, edited through the same service."""
from webapp.services import comments as svc


def test_the_api_edits_the_keys_own_comment(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}/comments"
    created = api.post(path, json={"body": "Backup started"}).get_json()
    assert created["editedAt"] is None
    edited = api.patch(f"{path}/{created['id']}", json={"body": "Backup finished"})
    body = edited.get_json()
    assert edited.status_code == 200 and body["body"] == "Backup finished" and body["editedAt"]
    others = svc.add_comment(make.user(), ticket, "A person's note")
    refused = api.patch(f"{path}/{others.id}", json={"body": "Robot's now"})
    assert refused.status_code == 403 and others.body == "A person's note"
    bad = api.patch(f"{path}/{created['id']}", json={"body": ""})
    assert bad.status_code == 422 and "body" in bad.get_json()["error"]["fields"]
    unknown = api.patch(f"{path}/{created['id']}", json={"text": "x"})
    assert unknown.status_code == 422 and "text" in unknown.get_json()["error"]["fields"]
