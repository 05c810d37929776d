"""GET /api/tickets?q=…&sort=…: the dashboard's search and sorts, with snippets, cursors and 422s by name
(each response is checked against the OpenAPI document by the `api` client)."""
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from webapp.services import comments
from webapp.services.search import Q_MAX

from .test_api_lists import _follow


def listed(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["displayId"] for item in response.get_json()["items"]]


@pytest.fixture
def found(make, keys):
    agent = keys.agent
    web01 = make.ticket(actor=keys.service, title="web01 down", severity=2,
                        overview="Nginx on web01 answers ERR_CONN_RESET; see /var/log/nginx/error.log.")
    relay = make.ticket(actor=keys.service, title="Relay queue", severity=1, overview="Mail waits in the queue.")
    comments.add_comment(agent, relay, "Restarting postfix on 10.0.3.7 fixed web01's alerts.")
    other = make.ticket(actor=keys.service, title="Printer", severity=3, overview="Paper jam.")
    return web01, relay, other


def test_a_search_lists_best_matches_first_each_with_its_snippet(api, found):
    web01, relay, _ = found
    response = api.get("/api/tickets?q=web01")
    assert listed(response) == [web01.display_id, relay.display_id]
    first, second = response.get_json()["items"]
    assert "<mark>web01</mark>" in first["snippet"] and "&lt;" not in first["snippet"]
    assert re.search(r"<mark>web01</mark>", second["snippet"]) and "Restarting postfix" in second["snippet"]
    assert "snippet" not in api.get("/api/tickets").get_json()["items"][0]


@pytest.mark.parametrize("q,names", [
    ("ERR_CONN_RESET", ["web01"]), ("/var/log", ["web01"]), ("10.0.3.7", ["relay"]), ("restart", ["relay"]),
    ('"queue" -postfix', []), ("queue -printer", ["relay"]), ("jam or nginx", ["web01", "other"]),
])
def test_the_api_searches_as_the_dashboard_does(api, found, q, names):
    web01, relay, other = found
    ids = {"web01": web01.display_id, "relay": relay.display_id, "other": other.display_id}
    assert set(listed(api.get("/api/tickets?" + urlencode({"q": q})))) == {ids[name] for name in names}


def test_search_combines_with_the_list_filters_and_sorts(api, found):
    web01, relay, _ = found
    assert listed(api.get("/api/tickets?q=web01&severity=1")) == [relay.display_id]
    assert listed(api.get("/api/tickets?q=web01&sort=queue")) == [relay.display_id, web01.display_id]
    assert listed(api.get("/api/tickets?q=web01&sort=newest")) == [relay.display_id, web01.display_id]
    assert listed(api.get("/api/tickets?q=web01&status=RESOLVED")) == []
    assert listed(api.get("/api/tickets?sort=newest"))[0] == found[2].display_id


@pytest.mark.parametrize("sort", ["relevance", "queue", "newest", "updated"])
def test_every_sort_pages_with_next_to_the_end(api, make, keys, sort):
    for n in range(7):
        make.ticket(actor=keys.service, title=f"Cormorant {n}", severity=n % 3 + 1, overview="cormorant " * (n % 3))
    everything = listed(api.get(f"/api/tickets?q=cormorant&sort={sort}&limit=100"))
    items, pages = _follow(api, f"/api/tickets?q=cormorant&sort={sort}&limit=3")
    assert [item["displayId"] for item in items] == everything and pages == 3 and len(everything) == 7


@pytest.mark.parametrize("query,field", [
    ({"q": "x" * (Q_MAX + 1)}, "q"),
    ({"q": "x" * 10_000}, "q"),
    ({"q": "web01\x00"}, "q"),
    ({"q": "the and of"}, "q"),
    ({"q": "?!.,;"}, "q"),
    ({"q": "-web01"}, "q"),
    ({"q": "- -"}, "q"),
    ({"sort": "sideways"}, "sort"),
    ({"sort": "relevance"}, "sort"),
])
def test_a_search_that_cannot_run_is_refused_by_name(api, found, query, field):
    response = api.get("/api/tickets?" + urlencode(query))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("q", ['"web01', 'web01"', '""web01', "web01 or", "or web01", "web01 -", "web01 --x",
                               "web01 -ü"])
def test_odd_but_searchable_queries_answer_200(api, found, q):
    assert found[0].display_id in listed(api.get("/api/tickets?" + urlencode({"q": q})))


def test_a_relevance_cursor_is_refused_by_the_queue_order(api, make, keys):
    for n in range(3):
        make.ticket(actor=keys.service, title=f"Shag {n}")
    next_url = api.get("/api/tickets?q=shag&limit=1").get_json()["next"]
    cursor = re.search(r"cursor=([^&]+)", next_url)[1]
    response = api.get(f"/api/tickets?cursor={cursor}")
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["cursor"]


def test_the_search_examples_in_the_n8n_doc_answer(api, found):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "n8n.md").read_text()
    examples = re.findall(r"`(http://127\.0\.0\.1:5000/api/tickets\?q=[^`]+)`", doc)
    examples += ["/api/tickets?" + urlencode({"q": q}) for q in re.findall(r"`q=([^`]+)`", doc)]
    assert len(examples) >= 4
    for url in examples:
        response = api.get(url.removeprefix("http://127.0.0.1:5000"))
        assert response.status_code == 200 and all("snippet" in item for item in response.get_json()["items"]), url
    assert listed(api.get("/api/tickets?" + urlencode({"q": 'web01 -"false alarm"', "status": "active"}))) == [
        found[0].display_id, found[1].display_id]
