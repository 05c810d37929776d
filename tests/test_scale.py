"""At 100,000 tickets every page reads tickets, comments and audit events through an index, and
costs the same number of SQL statements as it does with a handful of tickets."""
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from webapp.extensions import db
from webapp.models import Role
from webapp.services import comments, dispatch, inbox, recent
from webapp.services.tickets import assign, change_severity

from .conftest import CsrfClient, make_app, own_database
from .factories import PASSWORD, Factories

ROWS = 100_000
BIG_TABLES = ("ticket", "comment", "audit_event")

# Each page's SQL statements, whatever the number of rows: the signed-in user (or the API key's
# owner) is one of them, a live page's change stamp another (services.live; it reads the header
# bell's count too), and a ticket page looks its id up by the display ID (kept per process after),
# counts its comments and its history in one and lists its watchers in another. "{id}" is a
# ticket with 20 comments and a history; "{queue}", "{me}" ids.
PAGES = {
    "/": 5, "/?assignee=me": 5, "/?assignee=unassigned": 5, "/?queue={queue}": 5, "/?severity=1": 5,
    "/?status=RESOLVED": 5, "/?status=all": 5, "/?assignee={me}&status=CLOSED": 5, "/my-tickets": 4,
    # +1 each for the sidebar's linked tickets (services.links.links_of, one query), and +1 on the
    # overview and comments tabs for the ticket's files (services.attachments.attachments_of)
    "/tickets/{id}": 12, "/tickets/{id}/comments": 13, "/tickets/{id}/audit": 12,
    # searches: a word of one ticket, one of 2 % (by relevance, in other orders, with filters); the
    # newest and recently updated orders
    "/?q=12345": 5, "/?q=web07": 5, "/?q=web07&sort=queue&status=all": 5, "/?q=web07&assignee=me": 5,
    "/?q=12345&sort=newest": 5, "/?sort=newest": 5, "/?sort=updated&status=all": 5,
}
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
# what htmx swaps in; the comments tab lists the ticket's files beside its comments (+1)
FRAGMENTS = {"/?severity=2": 2, "/tickets/{id}/comments": 5, "/tickets/{id}/audit": 4}
API_PAGES = {
    "/api/tickets?limit=25": 2, "/api/tickets?status=OPEN,IN_PROGRESS&limit=25": 2,
    "/api/tickets?severity=1,2": 2, "/api/tickets?categoryId={queue}": 2, "/api/tickets?assigneeId={me}": 2,
    "/api/tickets?assigneeId=none&status=OPEN": 2, "/api/tickets?updatedSince=2026-01-01T00:00:00Z": 2,
    # a single ticket: +1 for its `links` (services.links.links_of, one query)
    "/api/tickets/{id}": 3, "/api/tickets/{id}/comments": 3, "/api/tickets/{id}/audit": 3,
    "/api/tickets?q=12345": 2, "/api/tickets?q=web07&severity=1": 2, "/api/tickets?q=web07&sort=updated": 2,
    "/api/tickets?q=web07&sort=newest&limit=25": 2, "/api/tickets?sort=newest": 2,
}

BULK_TICKETS = """
WITH items AS (
    SELECT row_number() OVER (ORDER BY item.id) - 1 AS n, item.id AS item_id, item.type_id, cti_type.category_id
    FROM item JOIN cti_type ON cti_type.id = item.type_id),
people AS (SELECT array_agg(id ORDER BY id) AS ids FROM "user" WHERE role = 'AGENT'),
spread AS (SELECT count(*) AS items FROM items),
rows AS (
    SELECT g,
           CASE WHEN g % 20 < 8 THEN 'OPEN' WHEN g % 20 = 8 THEN 'IN_PROGRESS'
                WHEN g % 20 < 13 THEN 'RESOLVED' ELSE 'CLOSED' END AS status,
           now() - g * interval '5 minutes' AS created
    FROM generate_series(1, :rows) AS g)
INSERT INTO ticket (display_id, title, overview, severity, status, category_id, type_id, item_id,
                    assignee_id, creator_id, created_at, updated_at, resolved_at, closed_at, version)
SELECT 'V' || (800000000 + g), 'Bulk ticket ' || g, 'Generated for the plan tests on web' || lpad((g % 50)::text, 2, '0'),
       CASE WHEN g % 33 = 0 THEN 1 WHEN g % 10 = 1 THEN 2 WHEN g % 4 = 2 THEN 4 WHEN g % 8 = 3 THEN 5 ELSE 3 END,
       status, items.category_id, items.type_id, items.item_id,
       CASE WHEN g % 7 = 0 THEN NULL ELSE people.ids[1 + g % array_length(people.ids, 1)] END,
       people.ids[1], created, created + interval '1 hour',
       CASE WHEN status IN ('RESOLVED', 'CLOSED') THEN created + interval '1 hour' END,
       CASE WHEN status = 'CLOSED' THEN created + interval '15 days' END, 1
FROM rows CROSS JOIN people CROSS JOIN spread JOIN items ON items.n = g % spread.items
"""
BULK_HISTORY = """
INSERT INTO audit_event (ticket_id, actor_id, action, before, after, created_at)
SELECT id, creator_id, 'create', NULL, json_build_object('title', title), created_at FROM ticket;
INSERT INTO comment (ticket_id, author_id, body, created_at)
SELECT id, creator_id, 'A **bulk** comment', created_at + interval '10 minutes' FROM ticket WHERE id % 10 = 0;
ANALYZE;
"""


@pytest.fixture(scope="module")
def scale(database_url, tmp_path_factory):
    """An app over a database of this module's own holding 100k tickets, their audit and comments."""
    if sa.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the 100k-row plans are checked on PostgreSQL")
    with own_database(database_url, "scale", tmp_path_factory.mktemp("scale")) as url:
        app = make_app(url, API_RATE_LIMIT="100000 per minute")
        try:
            with app.app_context():
                upgrade()
                ids = _fill(Factories())
                db.session.remove()
            yield app, ids
        finally:
            with app.app_context():
                db.engine.dispose()


def _fill(make: Factories) -> dict:
    """20 agents, 40 items in 10 queues, 100k bulk tickets, and one worked ticket with 20 comments."""
    agents = [make.user(f"scale{n}") for n in range(20)]
    service = make.user("scale-bot", role=Role.SERVICE)
    ctis = [make.cti(f"Queue {n // 4}", f"Type {n % 2}", f"Item {n}") for n in range(40)]
    db.session.execute(sa.text(BULK_TICKETS), {"rows": ROWS})
    for statement in BULK_HISTORY.split(";")[:-1]:
        db.session.execute(sa.text(statement))
    db.session.commit()
    worked = make.ticket(actor=agents[0], cti=ctis[0], assignee=agents[0])
    for n in range(20):
        comments.add_comment(agents[n % 5], worked, f"Comment {n}: checked `web-{n}`.")
    for n in range(5):
        change_severity(agents[n], worked, n % 5 + 1)
        assign(agents[n], worked, agents[n].id)
    inbox.mark_all_read(agents[0])  # the pages are measured as the agent sees them day to day, inbox read
    return {"id": worked.display_id, "queue": ctis[0][0].id, "me": agents[0].id,
            "agent": agents[0].username, "key": service.plain_api_key}


@contextmanager
def recorded(app):
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        statements.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def scans_of_big_tables(app, statements) -> list[str]:
    """Plan lines that read a big table without an index (sequential or whole-table bitmap)."""
    found = []
    with app.app_context():
        conn = db.session.connection()
        for statement, parameters in statements:
            if not any(re.search(rf'\b(from|join)\s+"?{t}"?\b', statement, re.I) for t in BIG_TABLES):
                continue
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
            found += [line.split("(")[0].strip() for line in plan.splitlines()
                      if re.search(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b", line)]
        db.session.remove()
    return found


def signed_in(app, username: str) -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303
    return client


def check(app, expected: int, fetch) -> None:
    """Fetch a page (its filter menus not kept from an earlier one), then EXPLAIN and count its statements."""
    recent.forget_all(app)
    with recorded(app) as statements:
        response = fetch()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert scans_of_big_tables(app, statements) == []
    assert len(statements) == expected, [statement for statement, _ in statements]
    return response


@pytest.mark.postgres
@pytest.mark.parametrize("path", list(PAGES))
def test_web_page_at_100k_uses_indexes_and_a_fixed_number_of_statements(scale, path):
    app, ids = scale
    client = signed_in(app, ids["agent"])
    check(app, PAGES[path], lambda: client.get(path.format(**ids)))


@pytest.mark.postgres
@pytest.mark.parametrize("path", list(FRAGMENTS))
def test_htmx_fragment_at_100k_uses_indexes_and_a_fixed_number_of_statements(scale, path):
    app, ids = scale
    client = signed_in(app, ids["agent"])
    response = check(app, FRAGMENTS[path], lambda: client.get(path.format(**ids), headers=HTMX))
    assert "<html" not in response.get_data(as_text=True)


@pytest.mark.postgres
@pytest.mark.parametrize("path", list(API_PAGES))
def test_api_list_at_100k_uses_indexes_and_a_fixed_number_of_statements(scale, path):
    app, ids = scale
    check(app, API_PAGES[path],
          lambda: app.test_client().get(path.format(**ids), headers={"X-Api-Key": ids["key"]}))


@pytest.mark.postgres
def test_next_pages_at_100k_use_indexes_too(scale):
    """Deep pages are keyset pages: the cursor is an index bound, never an offset."""
    app, ids = scale
    client = signed_in(app, ids["agent"])
    page = client.get("/?status=all").get_data(as_text=True)
    next_path = re.search(r'rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    api_next = app.test_client().get("/api/tickets?limit=25", headers={"X-Api-Key": ids["key"]}).get_json()["next"]
    for fetch in (lambda: client.get(next_path),
                  lambda: app.test_client().get(api_next, headers={"X-Api-Key": ids["key"]})):
        with recorded(app) as statements:
            assert fetch().status_code == 200
        assert scans_of_big_tables(app, statements) == []


@pytest.mark.postgres
def test_the_detector_sees_a_sequential_scan(scale):
    """The check above can fail: a filter on an unindexed column reads the whole table."""
    app, _ = scale
    with app.app_context():
        statement = "SELECT id FROM ticket WHERE title = %(title)s"
    assert scans_of_big_tables(app, [(statement, {"title": "Bulk ticket 7"})]) == ["Seq Scan on ticket"]


@pytest.mark.postgres
def test_a_dispatch_batch_finds_its_rows_by_key_even_when_statistics_say_the_outbox_is_empty(scale):
    """100k events waiting (say, after a Redis outage), statistics from when none did: each batch
    must still look up its 200 rows by key, not compare every waiting row against the batch."""
    app, _ = scale
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM outbox_event"))
        db.session.execute(sa.text(
            "INSERT INTO outbox_event (audit_event_id, created_at) SELECT id, now() FROM audit_event"))
        db.session.commit()
    try:
        with recorded(app) as statements, app.app_context():
            assert dispatch._dispatch_batch(200) == 200
        [(update, parameters)] = [s for s in statements if s[0].lstrip().startswith("WITH picked")]
        with app.app_context():
            plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(
                "EXPLAIN " + update, parameters))
            db.session.rollback()
        assert "Index Cond: (id = ANY" in plan and "Semi Join" not in plan, plan
    finally:
        with app.app_context():
            db.session.execute(sa.text("DELETE FROM outbox_event"))
            db.session.commit()


@pytest.mark.postgres
@pytest.mark.parametrize("path", [
    "/api/tickets?q=12345", "/api/tickets?q=web07", "/api/tickets?q=%22web07%22%20-tests",
    "/api/tickets?q=web07&assigneeId={me}", "/api/tickets?q=12345&sort=newest", "/api/tickets?q=12345&sort=queue",
    "/api/tickets?q=12345&sort=updated&status=active", "/api/tickets?q=web07%20or%2012345",
])
def test_a_search_at_100k_reads_the_gin_index(scale, path):
    """A word in few tickets is looked up in ix_ticket_search (not matched row by row), whatever the
    sort and filters; EXPLAIN of the very statement the request ran."""
    app, ids = scale
    with recorded(app) as statements:
        assert app.test_client().get(path.format(**ids), headers={"X-Api-Key": ids["key"]}).status_code == 200
    [(statement, parameters)] = [s for s in statements if "search_vector" in s[0]]
    with app.app_context():
        plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))
        db.session.remove()
    assert "Bitmap Index Scan on ix_ticket_search" in plan, plan


VIEW_FILTERS = ({}, {"status": "all"}, {"assignee": "me"}, {"assignee": "unassigned", "status": "OPEN"},
                {"queue": "{queue}"}, {"severity": "1"}, {"status": "RESOLVED"}, {"status": "CLOSED", "severity": "5"},
                {"updatedSince": "2000-01-01T00:00:00Z", "status": "all"}, {"q": "12345", "status": "all"})


@pytest.mark.postgres
def test_view_counts_at_100k_use_indexes_and_one_bounded_statement_each(scale):
    """The sidebar counts each view with one statement that stops at 1,001 rows, read through an index."""
    from webapp.models import SavedView, User
    from webapp.services.listing import COUNT_CAP
    from webapp.services.saved_views import create_view

    app, ids = scale
    with app.app_context():
        owner = db.session.scalar(sa.select(User).filter_by(username=ids["agent"]))
        made = [create_view(owner, name=f"Scale {n}", filters={k: v.format(**ids) for k, v in filters.items()}).id
                for n, filters in enumerate(VIEW_FILTERS)]
        db.session.remove()
    try:
        client = signed_in(app, ids["agent"])
        # the signed-in user, the views, then one count per view (the two built-in ones too)
        response = check(app, 2 + 2 + len(VIEW_FILTERS), lambda: client.get("/views", headers=HTMX))
        html = response.get_data(as_text=True)
        assert html.count(f"{COUNT_CAP:,}+") >= 3  # the open queue, every status, the closed SEV 5s
    finally:
        with app.app_context():
            db.session.execute(sa.delete(SavedView).where(SavedView.id.in_(made)))
            db.session.commit()


@pytest.mark.postgres
@pytest.mark.parametrize("args,index", [
    ({"assignee": "unassigned"}, r"ix_ticket_(active_)?assignee"),
    ({"assignee": "unassigned", "status": "OPEN"}, r"ix_ticket_(active_)?assignee"),
    ({"updatedSince": "2000-01-01T00:00:00Z", "status": "all"}, r"ix_ticket_updated"),
])
def test_a_count_by_no_assignee_or_a_change_time_reads_that_filters_index(scale, args, index):
    """Sifting the queue's index for them would read many entries per match (at 1M: 30-50 ms, not 5)."""
    from webapp.services.listing import ListFilter, count_capped

    app, _ = scale
    with recorded(app) as statements, app.app_context():
        assert count_capped(ListFilter.from_web_args(args), None) == 1001
        db.session.remove()
    (statement, parameters), = statements
    with app.app_context():
        plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))
        db.session.remove()
    assert re.search(rf"Index (Only )?Scan using {index}", plan), plan
