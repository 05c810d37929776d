"""Every payload of the XSS corpus through the markdown renderer and Jinja's escaping (no browser)."""
import pytest
from flask import render_template_string

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
