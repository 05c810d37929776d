"""Lists build one statement per combination of filters and bind the values at each request."""
import re

from sqlalchemy import event

from webapp.extensions import db
from webapp.models import Ticket
from webapp.services.listing import QUEUE_ORDER, UNASSIGNED, keyset_page, ticket_list_query
from webapp.services.queue import QueueFilter, list_tickets
from webapp.services.tickets import change_status


def ids(page) -> list[str]:
    return [row.display_id for row in page.items]


def test_the_same_filters_reuse_one_statement_with_other_values(make):
    agent = make.user()
    urgent, routine = make.ticket(severity=1, assignee=agent), make.ticket(severity=4)
    change_status(agent, routine, "IN_PROGRESS")
    open_query, open_values = ticket_list_query(statuses=["OPEN"], severities=[1, 2])
    busy_query, busy_values = ticket_list_query(statuses=["IN_PROGRESS"], severities=[4])
    assert open_query is busy_query and open_values != busy_values
    assert ids(keyset_page(open_query, QUEUE_ORDER, None, 10, open_values)) == [urgent.display_id]
    assert ids(keyset_page(busy_query, QUEUE_ORDER, None, 10, busy_values)) == [routine.display_id]
    nobody, values = ticket_list_query(assignee_id=UNASSIGNED)
    assert nobody is not ticket_list_query()[0] and values == {}
    assert ids(keyset_page(nobody, QUEUE_ORDER, None, 10, values)) == [routine.display_id]


def test_a_reused_statement_pages_by_cursor(make):
    tickets = sorted((make.ticket(severity=n % 5 + 1) for n in range(7)),
                     key=lambda t: (t.severity, t.created_at, t.id))
    query, values = ticket_list_query()
    first = keyset_page(query, QUEUE_ORDER, None, 4, values)
    rest = keyset_page(query, QUEUE_ORDER, first.next_after, 4, values)
    assert ids(first) + ids(rest) == [t.display_id for t in tickets] and rest.next_after is None


def test_the_queue_binds_each_viewers_own_id(make):
    one, two = make.user(), make.user()
    mine, theirs = make.ticket(assignee=one), make.ticket(assignee=two)
    for viewer, expected in ((one, mine), (two, theirs)):
        page = list_tickets(QueueFilter(assignee="me"), viewer)
        assert [row.display_id for row in page.tickets] == [expected.display_id]


def test_page_statements_carry_their_limit_as_a_number(make):
    """A LIMIT sent as a parameter made PostgreSQL plan the joins afresh on every execution."""
    agent = make.user()
    make.ticket(assignee=agent)
    texts = []
    listener = lambda _conn, _cursor, statement, *_: texts.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        query, values = ticket_list_query()
        keyset_page(query, QUEUE_ORDER, None, 25, values)
        keyset_page(db.select(Ticket), QUEUE_ORDER, None, 7)
        list_tickets(QueueFilter(assignee="me"), agent)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    limits = [re.search(r"\bLIMIT\s+(\S+)", text) for text in texts if " LIMIT " in text.replace("\n", " ")]
    assert len(limits) == 3 and all(limit is not None for limit in limits)
    assert [limit[1] for limit in limits[:2]] == ["26", "8"] and limits[2][1].isdigit()
