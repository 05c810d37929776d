"""One status vocabulary, case-insensitive, everywhere: a PATCH, a bulk change, the web's status form
and every list filter read `resolved` as `RESOLVED`; answers always spell it in upper case."""
import itertools
import re

import pytest

from webapp.api.openapi_schemas import STATUS_IN
from webapp.models import Status
from webapp.services.tickets import status_named

SPELLINGS = [("resolved", Status.RESOLVED), ("Resolved", Status.RESOLVED), ("in_progress", Status.IN_PROGRESS),
             ("In progress", Status.IN_PROGRESS), ("in-progress", Status.IN_PROGRESS), ("Open", Status.OPEN)]


@pytest.mark.parametrize("given,meant", SPELLINGS)
def test_a_patch_takes_the_status_in_any_case(api, make, keys, given, meant):
    ticket = make.ticket(actor=keys.service)
    if meant == Status.OPEN:
        api.patch(f"/api/tickets/{ticket.display_id}", json={"status": "RESOLVED"})
    response = api.patch(f"/api/tickets/{ticket.display_id}", json={"status": given})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == meant.value and ticket.status == meant


def test_an_unknown_status_is_refused_by_name_with_the_vocabulary(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    for given in ("done", "RESOLVEDX", "", 3):
        response = api.patch(f"/api/tickets/{ticket.display_id}", json={"status": given})
        assert response.status_code == 422
        assert "OPEN, IN_PROGRESS, RESOLVED, CLOSED (any case)" in response.get_json()["error"]["fields"]["status"]
    assert ticket.status == Status.OPEN


def test_a_bulk_change_takes_the_status_in_any_case(api, make, keys):
    tickets = [make.ticket(actor=keys.service) for _ in range(2)]
    response = api.post("/api/tickets/bulk", json={"tickets": [t.display_id for t in tickets],
                                                   "changes": {"status": "in progress"}})
    assert response.status_code == 200 and response.get_json()["failed"] == []
    assert [t.status for t in tickets] == [Status.IN_PROGRESS] * 2


@pytest.mark.parametrize("query", ["status=resolved", "status=Resolved", "status=RESOLVED,closed",
                                   "status=All", "status=ACTIVE"])
def test_the_list_filter_reads_the_same_words(api, make, keys, query):
    opened, resolved = make.ticket(actor=keys.service), make.ticket(actor=keys.service)
    api.patch(f"/api/tickets/{resolved.display_id}", json={"status": "resolved"})
    response = api.get(f"/api/tickets?{query}")
    assert response.status_code == 200, response.get_json()
    listed = {item["displayId"] for item in response.get_json()["items"]}
    group = query.split("=")[1].lower()
    assert (resolved.display_id in listed) == (group != "active")
    assert (opened.display_id in listed) == (group in ("all", "active"))


def test_the_web_status_form_and_the_dashboard_read_the_same_words(client, auth, make):
    make.user("agent")
    auth.login("agent")
    ticket = make.ticket()
    response = client.post(f"/tickets/{ticket.display_id}/status", data={"status": "in_progress",
                                                                        "version": ticket.version})
    assert response.status_code in (200, 303) and ticket.status == Status.IN_PROGRESS
    html = client.get("/?status=in_progress").get_data(as_text=True)
    assert ticket.display_id in html and 'value="IN_PROGRESS" selected' in html


def test_the_openapi_pattern_admits_exactly_what_the_service_reads():
    """The request schema's pattern and services.tickets.status_named agree on every spelling tried."""
    pattern = re.compile(STATUS_IN["pattern"])
    words = [s.value for s in Status] + ["done", "OPENED", "in__progress", "IN PROGRESS", "Closed", "x", " OPEN"]
    tried = {variant for word in words for variant in (word, word.lower(), word.title(), word.replace("_", "-"))}
    tried |= {"".join(chars) for chars in itertools.product("oO", "pP", "eE", "nN")}
    for text in tried:
        assert bool(pattern.fullmatch(text)) == (status_named(text) is not None), text
