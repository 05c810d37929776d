"""Lists build one statement per combination of filters and bind the values at each request."""
import re

from sqlalchemy import event

from webapp.extensions import db
from webapp.models import Ticket
from webapp.services.listing import QUEUE_ORDER, UNASSIGNED, ListFilter, keyset_page, list_page, page_statement
from webapp.services.tickets import change_status


def ids(page) -> list[str]:
    return [row.display_id for row in page.items]


def test_the_same_filters_reuse_one_statement_with_other_values(make):
    agent = make.user()
    urgent, routine = make.ticket(severity=1, assignee=agent), make.ticket(severity=4)
    change_status(agent, routine, "IN_PROGRESS")
    open_filter, busy_filter = ListFilter(("OPEN",), (1, 2)), ListFilter(("IN_PROGRESS",), (3, 4))
    (open_shape, open_values), (busy_shape, busy_values) = open_filter.shape(agent), busy_filter.shape(agent)
    assert page_statement(open_shape, "api", "first") is page_statement(busy_shape, "api", "first")
    assert open_values != busy_values
    assert ids(list_page(open_filter, agent, limit=10, columns="api")) == [urgent.display_id]
    assert ids(list_page(busy_filter, agent, limit=10, columns="api")) == [routine.display_id]
    nobody = ListFilter((), assignee=UNASSIGNED)
    shape, values = nobody.shape(agent)
    assert page_statement(shape, "api", "first") is not page_statement(
        ListFilter(()).shape(agent)[0], "api", "first") and values == {}
    assert ids(list_page(nobody, agent, limit=10, columns="api")) == [routine.display_id]


def test_a_reused_statement_pages_by_cursor(make):
    tickets = sorted((make.ticket(severity=n % 5 + 1) for n in range(7)),
                     key=lambda t: (t.severity, t.created_at, t.id))
    everything = ListFilter(())
    first = list_page(everything, None, limit=4, columns="api")
    rest = list_page(everything, None, after=first.next_after, limit=4, columns="api")
    assert ids(first) + ids(rest) == [t.display_id for t in tickets] and rest.next_after is None


def test_the_queue_binds_each_viewers_own_id(make):
    one, two = make.user(), make.user()
    mine, theirs = make.ticket(assignee=one), make.ticket(assignee=two)
    for viewer, expected in ((one, mine), (two, theirs)):
        page = list_page(ListFilter(assignee="me"), viewer)
        assert [row.display_id for row in page.items] == [expected.display_id]


def test_page_statements_carry_their_limit_as_a_number(make):
    """A LIMIT sent as a parameter made PostgreSQL plan the joins afresh on every execution."""
    agent = make.user()
    make.ticket(assignee=agent)
    texts = []
    listener = lambda _conn, _cursor, statement, *_: texts.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        list_page(ListFilter(()), None, limit=25, columns="api")
        keyset_page(db.select(Ticket), QUEUE_ORDER, None, 7)
        list_page(ListFilter(assignee="me"), agent)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    limits = [re.search(r"\bLIMIT\s+(\S+)", text) for text in texts if " LIMIT " in text.replace("\n", " ")]
    assert len(limits) == 3 and all(limit is not None for limit in limits)
    assert [limit[1] for limit in limits[:2]] == ["26", "8"] and limits[2][1].isdigit()
