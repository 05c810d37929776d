"""Search on the web: the header's box on every page, the queue's live search (`/?q=…`), snippets in the
rows, a ticket's id opening the ticket, and bad searches answered with a message, never a 500."""
import re
from urllib.parse import quote, urlencode

import pytest

from webapp.services import comments
from webapp.services.search import Q_MAX
from webapp.services.tickets import change_status

from .conftest import PARTIAL, RESTORE, is_full_page
from .test_dashboard import listed


def search_box(html: str) -> str:
    return re.search(r'<input id="search-q"[^>]*>', html)[0]


@pytest.mark.parametrize("path", ["/", "/my-tickets", "/tickets/new", "/tickets/{ticket}", "/tickets/{ticket}/audit"])
def test_every_page_has_the_search_box_in_its_header(client, agent, make, path):
    ticket = make.ticket()
    html = client.get(path.format(ticket=ticket.display_id)).get_data(as_text=True)
    header = re.search(r'<header class="topbar">.*?</header>', html, re.S)[0]
    assert '<form id="site-search"' in header and 'action="/search"' in header
    assert 'id="search-q"' in search_box(header) and '<kbd class="site-search-key"' in header
    assert '<script src="/static/js/search.js" defer></script>' in html


def test_the_queue_searches_live_as_you_type_and_keeps_the_search_in_the_url(client, agent, make):
    box = search_box(client.get("/?q=disk&severity=2").get_data(as_text=True))
    assert 'value="disk"' in box and 'form="queue-filters"' in box
    assert 'hx-trigger="input changed delay:300ms, search"' in box and 'hx-push-url="true"' in box
    assert 'hx-target="#results"' in box and 'hx-include="#queue-filters"' in box
    response = client.get("/?q=disk&severity=2&status=active", headers=PARTIAL)
    assert not is_full_page(response) and response.headers["HX-Push-Url"] == "/?severity=2&q=disk"


def test_results_show_where_the_text_matched(client, agent, make):
    ticket = make.ticket(title="Backups", overview="The job on nas-01 fails with ERR_NO_SPACE <again>.")
    comments.add_comment(agent, make.ticket(title="Other"), "Unrelated words.")
    response = client.get("/?q=err_no_space")
    assert listed(response) == [ticket.display_id]
    html = response.get_data(as_text=True)
    snippet = re.search(r'<p class="snippet">(.*?)</p>', html)[1]
    assert re.sub(r"</mark>_<mark>", "_", snippet) == (
        "The job on nas-01 fails with <mark>ERR_NO_SPACE</mark> &lt;again&gt;.")
    assert "matching “err_no_space”" in html


def test_a_search_through_the_header_opens_a_ticket_by_its_id(client, agent, make):
    ticket = make.ticket()
    for typed in (ticket.display_id, ticket.display_id.lower(), f"  {ticket.display_id}  "):
        response = client.get("/search?" + urlencode({"q": typed}))
        assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.display_id}"


def test_an_unknown_id_is_searched_for_with_a_message(client, agent, make):
    mention = make.ticket(title="Follow-up", overview="Same cause as V000000001.")
    response = client.get("/search?q=v000000001")
    assert response.status_code == 303 and response.headers["Location"] == "/?q=v000000001&status=all"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and listed(page) == [mention.display_id]
    assert "No ticket is V000000001; showing tickets that mention it." in page.get_data(as_text=True)


def test_the_header_searches_every_status(client, agent, make):
    closed = make.ticket(title="Old certificate expiry")
    change_status(agent, closed, "RESOLVED")
    response = client.get("/search?q=certificate")
    assert response.headers["Location"] == "/?q=certificate&status=all"
    assert listed(client.get(response.headers["Location"])) == [closed.display_id]
    assert listed(client.get("/?q=certificate")) == []  # the queue's own box keeps the queue's filters


def test_an_id_submitted_on_the_queue_opens_the_ticket_but_not_while_typing_or_going_back(client, agent, make):
    ticket = make.ticket(title="Named")
    path = f"/?q={ticket.display_id.lower()}"
    response = client.get(path)
    assert response.status_code == 303 and response.headers["Location"] == f"/tickets/{ticket.display_id}"
    assert client.get(f"/my-tickets?q={ticket.display_id}").status_code == 303
    typing = client.get(path, headers=PARTIAL)
    assert typing.status_code == 200
    assert f'Ticket <a class="mono" href="/tickets/{ticket.display_id}">{ticket.display_id}</a>: press Enter' in (
        typing.get_data(as_text=True))
    back = client.get(path, headers=RESTORE)
    assert back.status_code == 200 and is_full_page(back)


def test_no_results_says_so_and_offers_every_status(client, agent, make):
    make.ticket(title="Something else")
    html = client.get("/?q=nothingmatchesthis&severity=3").get_data(as_text=True)
    assert "No tickets match “nothingmatchesthis”." in html
    assert 'href="/?severity=3&amp;q=nothingmatchesthis&amp;status=all">Search all statuses' in html
    assert 'href="/?severity=3">Clear the search' in html
    assert "Search all statuses" not in client.get("/?q=nothingmatchesthis&status=all").get_data(as_text=True)


@pytest.mark.parametrize("q,message", [
    ("x" * 10_000, f"Keep searches under {Q_MAX} characters (10,000 now)."),
    ("disk\x00", "invisible character U+0000"),
    ("the of and", "match nearly every ticket"),
    ('" - ...', "Nothing to search for"),
])
def test_a_search_that_cannot_run_keeps_the_text_and_says_why(client, agent, make, q, message):
    make.ticket(title="Disk the of and")
    for headers in ({}, PARTIAL):
        response = client.get("/?" + urlencode({"q": q}), headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and message in html and listed(response) == []
        assert '<p class="field-error" id="q-error" role="alert">' in html
    box = search_box(client.get("/?" + urlencode({"q": q})).get_data(as_text=True))
    assert 'aria-invalid="true" aria-describedby="q-error"' in box
    assert f'value="{q[:40]}' in box.replace("&#34;", '"').replace("&quot;", '"') or "\x00" in q


@pytest.mark.parametrize("q", ['"unclosed phrase', "-", "or", "a -", "web01 ) (", "%00", "\\",
                               "'; DROP TABLE ticket;--"])
def test_odd_searches_never_fail(client, agent, make, q):
    make.ticket(title="web01 unclosed phrase")
    assert client.get(f"/?q={quote(q)}").status_code in (200, 422)
    assert client.get(f"/search?q={quote(q)}").status_code == 303


def test_the_sort_menu_offers_best_match_only_for_a_search_and_follows_the_live_search(client, agent, make):
    def options(html):
        menu = re.search(r'<select id="filter-sort" name="sort">(.*?)</select>', html, re.S)[1]
        return re.findall(r'<option value="(\w*)" (selected)?>([^<]+)</option>', menu)

    assert options(client.get("/").get_data(as_text=True)) == [
        ("", "selected", "Most severe, oldest"), ("newest", "", "Newest first"), ("updated", "", "Recently updated")]
    assert options(client.get("/?q=disk").get_data(as_text=True)) == [
        ("", "selected", "Best match"), ("queue", "", "Most severe, oldest"), ("newest", "", "Newest first"),
        ("updated", "", "Recently updated")]
    assert ("newest", "selected", "Newest first") in options(client.get("/?q=disk&sort=newest").get_data(as_text=True))
    live = client.get("/?q=disk&sort=", headers=PARTIAL).get_data(as_text=True)
    assert '<div class="filter" id="sort-filter" hx-swap-oob="outerMorph">' in live
    assert options(live)[0] == ("", "selected", "Best match")
