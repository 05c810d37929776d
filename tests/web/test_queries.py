"""The dashboard and ticket page cost a fixed number of SQL queries, and the queue reads an index."""
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from webapp.extensions import db
from webapp.models import Category, CtiType, Item, Ticket, User
from webapp.services import audit, comments, recent
from webapp.services.listing import ListFilter, list_page
from webapp.services.tickets import assign, change_severity
from webapp.db.utc import utcnow


@contextmanager
def recorded_queries():
    """Every statement sent to the database while the block runs, with its parameters."""
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def query_count(client, path) -> int:
    """Statements one page costs, none of its menus kept from an earlier page (services.recent)."""
    recent.forget_all(client.application)
    with recorded_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    return len(statements)


def busy_queue(make, count):
    """`count` tickets, each with its own creator, assignee and category."""
    for n in range(count):
        person = make.user()
        make.ticket(actor=person, assignee=person, cti=make.cti(f"Cat {person.id}", "Type"), severity=n % 5 + 1)


@pytest.mark.parametrize("path", ["/", "/?status=all", "/?assignee=unassigned", "/my-tickets"])
def test_dashboard_query_count_does_not_grow_with_rows(client, agent, make, path):
    busy_queue(make, 2)
    few = query_count(client, path)
    busy_queue(make, 20)
    assert query_count(client, path) == few


def test_dashboard_issues_at_most_seven_queries(client, agent, make):
    busy_queue(make, 10)
    # cache_version (services.recent), session user, tickets, queues, people, the bell's unread
    # count (+ savepoint noise)
    assert query_count(client, "/") <= 7


def busy_ticket(make, agent, count):
    ticket = make.ticket(actor=agent)
    for n in range(count):
        person = make.user()
        comments.add_comment(person, ticket, f"comment {n} with **markdown**")
        change_severity(person, ticket, n % 5 + 1)
        assign(person, ticket, person.id)
    return ticket


@pytest.mark.parametrize("suffix", ["", "/comments", "/audit"])
def test_ticket_page_query_count_does_not_grow_with_comments_or_history(client, agent, make, suffix):
    quiet = busy_ticket(make, agent, 1)
    busy = busy_ticket(make, agent, 12)
    assert query_count(client, f"/tickets/{busy.display_id}{suffix}") == query_count(
        client, f"/tickets/{quiet.display_id}{suffix}")


def test_ticket_action_response_query_count_does_not_grow_with_history(client, agent, make):
    def action_queries(ticket):
        recent.forget_all(client.application)
        with recorded_queries() as statements:
            client.post(f"/tickets/{ticket.display_id}/status", data={"status": "IN_PROGRESS"},
                        headers={"HX-Request": "true", "HX-Request-Type": "partial"})
        return len(statements)

    assert action_queries(busy_ticket(make, agent, 12)) == action_queries(busy_ticket(make, agent, 1))


def plan_for(statement, parameters) -> str:
    """The database's plan for a recorded statement, as one lowercase string."""
    conn = db.session.connection()
    explain = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    rows = conn.exec_driver_sql(explain + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows).lower()


@pytest.fixture
def big_queue(app):
    """3,000 tickets over 40 people and 20 queues, four in five closed, with planner statistics."""
    now = utcnow()
    db.session.execute(insert(User), [
        {"username": f"bulk{n}", "display_name": f"Bulk {n}", "role": "AGENT", "created_at": now} for n in range(40)])
    db.session.execute(insert(Category), [{"name": f"Queue {n}", "created_at": now} for n in range(20)])
    people = db.session.scalars(db.select(User.id).where(User.username.like("bulk%"))).all()
    for category_id in db.session.scalars(db.select(Category.id)).all():
        db.session.add(Item(type=CtiType(category_id=category_id, name="Type", created_at=now), name="Item",
                            created_at=now))
    db.session.flush()
    items = db.session.execute(db.select(Item.id, Item.type_id, CtiType.category_id).join(CtiType)).all()
    statuses = ["OPEN", "OPEN", "IN_PROGRESS"] + ["RESOLVED"] + ["CLOSED"] * 16
    rows = []
    for n in range(3_000):
        item, type_, category = items[n % len(items)]
        rows.append({
            "display_id": f"V9{n:08d}", "title": f"Bulk {n}", "overview": "", "severity": n % 5 + 1,
            "status": statuses[n % len(statuses)], "category_id": category, "type_id": type_, "item_id": item,
            "assignee_id": None if n % 41 == 40 else people[n % 40], "creator_id": people[0],
            "created_at": now - timedelta(minutes=n), "updated_at": now,
        })
    db.session.execute(insert(Ticket), rows)
    db.session.connection().exec_driver_sql("ANALYZE")
    return people[0], items[0][2]


def ticket_access(plan: str) -> str:
    """The plan lines that read the ticket table itself."""
    return "\n".join(line for line in plan.splitlines() if re.search(r" on ticket\b|\bticket using|ix_ticket_|"
                                                                     r"^\s*(scan|search) ticket\b", line))


@pytest.mark.parametrize("args,cursor", [
    ({}, False), ({"severity": "1"}, False), ({"assignee": "me"}, False), ({"assignee": "unassigned"}, True),
    ({"queue": "QUEUE"}, False), ({"status": "RESOLVED"}, True), ({"status": "all"}, False),
])
def test_every_queue_filter_reads_tickets_through_an_index(big_queue, args, cursor):
    viewer_id, queue_id = big_queue
    args = {key: str(queue_id) if value == "QUEUE" else value for key, value in args.items()}
    plan = queue_plan(args, viewer_id, cursor)
    access = ticket_access(plan)
    assert re.search(r"index (scan (using|on) )?ix_ticket_\w+", access), plan
    assert "seq scan" not in access and not re.search(r"^\s*scan ticket\s*$", access, re.M), plan


@pytest.mark.parametrize("cursor", [False, True], ids=["first-page", "next-page"])
def test_default_dashboard_reads_the_open_queue_index_in_order(big_queue, cursor):
    viewer_id, _ = big_queue
    plan = queue_plan({}, viewer_id, cursor)
    assert "ix_ticket_active_queue" in ticket_access(plan), plan
    assert "sort" not in plan and "temp b-tree" not in plan, plan


def queue_plan(args: dict, viewer_id: int, cursor: bool) -> str:
    after = f"1.{int(utcnow().timestamp()) * 10**6}.1" if cursor else None
    with recorded_queries() as statements:
        page = list_page(ListFilter.from_web_args(args), db.session.get(User, viewer_id), after=after)
    assert page.items
    (statement, parameters), = [s for s in statements if "FROM ticket" in s[0]]
    return plan_for(statement, parameters)


def test_audit_history_reads_the_ticket_index(app, make):
    ticket = make.ticket()
    with recorded_queries() as statements:
        audit.ticket_history(ticket)
    plan = plan_for(*statements[-1])
    assert "ix_audit_event_ticket" in plan and "seq scan on audit_event" not in plan
