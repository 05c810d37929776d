"""Every payload of the XSS corpus through the markdown renderer and Jinja's escaping (no browser)."""
import re

import pytest
from flask import render_template_string

from webapp.services.search import START, STOP, highlight
from webapp.ui.markdown import render

from .xss import injections, payloads

CORPUS = payloads()


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 150 and len(set(CORPUS)) == len(CORPUS)


@pytest.mark.parametrize("payload", CORPUS)
def test_markdown_keeps_nothing_executable(payload):
    assert injections(render(payload)) == []


def test_the_check_finds_what_it_looks_for():
    assert injections('<img src=x onerror=alert(1)><a href="jav&#x09;ascript:x">y</a><div hx-get=/x>') == [
        "<img onerror>", "<a href='jav\\tascript:x'>", "<div hx-get>"]


def test_escaped_text_holds_no_markup(app):
    with app.test_request_context():
        for payload in CORPUS:
            html = render_template_string("<p title='{{ v }}'>{{ v }}</p>", v=payload)
            assert injections(html) == [], payload


def test_queue_rows_escape_every_value_from_data(app):
    """The dashboard's rows are built in Python (webapp.ui.badges), not by Jinja's autoescape."""
    from datetime import datetime, timezone

    from webapp.ui.badges import queue_rows
    from webapp.services.listing import Person, QueueRow

    moment = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with app.test_request_context():
        for payload in CORPUS:
            row = QueueRow(1, "V000000001", payload, 3, "OPEN", moment, payload, f"{payload} ", payload,
                           assignee=Person("someone", payload))
            assert injections(queue_rows([row])) == [], payload


def only_marks(html: str) -> bool:
    """No tag in `html` but our own attribute-less <mark>."""
    return set(re.findall(r"<\s*(/?[^\s>/]*)([^>]*)>", str(html))) <= {("mark", ""), ("/mark", "")}


def test_highlight_escapes_every_payload_and_adds_only_its_marks():
    """However the database placed the match markers (or a payload imitates them), only <mark> comes out."""
    for payload in CORPUS:
        for raw in (payload, f"{START}{payload}{STOP}", f"a {START}{payload[:5]}{STOP}{payload[5:]} {STOP}{START}",
                    payload.replace("<", START).replace(">", STOP)):
            html = highlight(raw)
            assert injections(html) == [] and only_marks(html), raw


def test_search_snippets_of_the_xss_corpus_hold_nothing_but_marks(app, make):
    """Every payload stored in an overview and a comment, found by search: the snippets the database
    writes reach the queue rows and the API only escaped (both databases, as the suite runs)."""
    from webapp.services.comments import add_comment
    from webapp.services.listing import ListFilter, list_page
    from webapp.ui.badges import queue_rows

    agent = make.user()
    for payload in CORPUS:
        ticket = make.ticket(actor=agent, title="probe", overview=f"needle {payload} needle")
        add_comment(agent, ticket, f"{payload} needle")
    found = ListFilter(statuses=(), q="needle")
    rows = list_page(found, None, limit=500).items
    api_rows = list_page(found, None, limit=500, columns="api").items
    assert len(rows) == len(api_rows) == len(CORPUS)
    with app.test_request_context():
        html = queue_rows(rows)
    assert injections(html) == [] and all(only_marks(row.snippet) for row in rows)
    assert all(injections(row["snippet"]) == [] and only_marks(row["snippet"]) for row in api_rows)
    assert sum("<mark>needle</mark>" in row.snippet for row in rows) == len(CORPUS)


def test_attachment_names_from_the_corpus_render_as_text(client, make, auth):
    """File names are user text too: the ticket page, its audit tab and the admin's purge list with
    every payload as an uploaded name hold exactly the markup they hold with plain names."""
    import io

    from webapp.models import Role
    from webapp.services.attachment_files import Upload
    from webapp.services.attachments import add_attachments, remove_attachment

    admin = make.user("root", role=Role.ADMIN)
    auth.login("root")

    def pages(names: list[str]) -> list[list[str]]:
        ticket = make.ticket(actor=admin)
        for start in range(0, len(names), 20):
            added = add_attachments(admin, ticket, [Upload(n, "text/plain", io.BytesIO(b"x")) for n in names[start:start + 20]])
            remove_attachment(admin, ticket, added[-1])  # some names on the purge list too
        found = [sorted(injections(client.get(path).get_data(as_text=True))) for path in (
            f"/tickets/{ticket.display_id}", f"/tickets/{ticket.display_id}/audit")]
        return found + [sorted(injections(client.get("/admin/attachments").get_data(as_text=True)))]

    plain = pages([f"file-{n}.txt" for n in range(len(CORPUS))])
    hostile = pages(CORPUS)
    assert hostile[:2] == plain[:2]
    assert set(hostile[2]) == set(plain[2])  # the purge list holds both tickets' files by then: same kinds only
