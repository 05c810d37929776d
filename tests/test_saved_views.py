"""Saved views: the built-in ones, names, filters that round-trip, who may change what, audit events,
and counts that stop at 1,000+ with one bounded statement per view."""
from datetime import timedelta

import re

import pytest
import sqlalchemy as sa

from webapp.db.utc import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, Role, SavedView, Ticket, User
from webapp.services import Forbidden, NotFound, ValidationError
from webapp.services import saved_views as service
from webapp.services import listing
from webapp.services.listing import COUNT_CAP, ListFilter, count_capped, list_page

from .web.test_queries import big_queue, plan_for, recorded_queries, ticket_access  # noqa: F401 (a fixture)


def builtin(name: str) -> SavedView:
    return db.session.scalar(sa.select(SavedView).where(SavedView.owner_id.is_(None), SavedView.name == name))


def bulk_tickets(make, count: int, **values) -> None:
    """`count` tickets in one INSERT (no audit rows: only their number matters here)."""
    category, cti_type, item = make.cti("Bulk", "Load")
    creator = make.user()
    now = utcnow()
    db.session.execute(sa.insert(Ticket), [{
        "display_id": f"V7{n:08d}", "title": f"Bulk {n}", "overview": "", "severity": 3, "status": "OPEN",
        "category_id": category.id, "type_id": cti_type.id, "item_id": item.id, "creator_id": creator.id,
        "created_at": now - timedelta(seconds=n), "updated_at": now, **values,
    } for n in range(count)])


# The built-in views


def test_the_migration_seeds_open_queue_and_my_tickets_shared_and_owned_by_nobody(app):
    queue, mine = builtin("Open queue"), builtin("My tickets")
    assert (queue.shared, queue.builtin, queue.filters) == (True, True, {})
    assert (mine.shared, mine.builtin, mine.filters) == (True, True, {"assignee": "me"})
    assert service.view_filter(queue) == ListFilter()


def test_my_tickets_shows_each_viewer_their_own(make):
    alice, bob = make.user("alice"), make.user("bob")
    hers, his = make.ticket(assignee=alice), make.ticket(assignee=bob)
    make.ticket()
    mine = service.view_filter(builtin("My tickets"))
    assert [row.display_id for row in list_page(mine, alice).items] == [hers.display_id]
    assert [row.display_id for row in list_page(mine, bob).items] == [his.display_id]
    assert service.counts(alice, [builtin("My tickets")]) == {builtin("My tickets").id: 1}


def test_seed_adds_back_a_missing_builtin_view_once(app, runner):
    db.session.delete(builtin("My tickets"))
    db.session.commit()
    assert "1 built-in view" in runner.invoke(args=["seed"]).output
    assert builtin("My tickets").filters == {"assignee": "me"}
    assert "built-in view" not in runner.invoke(args=["seed"]).output


def test_sidebar_order_is_builtin_then_shared_by_name_then_ones_own(make):
    agent, other = make.user(), make.user()
    service.create_view(other, name="zeta", filters={}, shared=True)
    service.create_view(agent, name="Alpha", filters={}, shared=True)
    service.create_view(agent, name="mine", filters={})
    service.create_view(other, name="not mine", filters={})
    assert [view.name for view in service.views_for(agent)] == ["Open queue", "My tickets", "Alpha", "zeta", "mine"]


# Filters


@pytest.mark.parametrize("args", [
    {}, {"status": "all"}, {"status": "RESOLVED,CLOSED"}, {"severity": "1,2"}, {"assignee": "me"},
    {"assignee": "unassigned", "severity": "5"}, {"updatedSince": "2026-01-02T03:04:05+00:00"},
    {"dedupKey": "disk-full:web-1"}, {"status": "OPEN", "severity": "1"},
])
def test_filters_round_trip_through_a_view(make, args):
    view = service.create_view(make.user(), name="Round trip", filters=args)
    assert service.view_filter(view) == ListFilter.from_web_args(args)
    assert view.filters == {name: str(value) for name, value in ListFilter.from_web_args(args).as_args().items()}


def test_filters_are_stored_in_the_dashboards_words(make):
    category, _, _ = make.cti("Infra", "Servers")
    person = make.user()
    view = service.create_view(person, name="API words", filters={
        "categoryId": category.id, "assigneeId": str(person.id), "severity": [2, "1"],
        "status": ["OPEN", "in_progress"]})
    assert view.filters == {"severity": "1,2", "queue": str(category.id), "assignee": str(person.id)}


def test_an_argument_the_listing_does_not_know_is_ignored_when_a_view_is_read(make):
    """A view saved by a later version (say with a `label` filter) still opens, on the filters known here."""
    view = service.create_view(make.user(), name="Later", filters={"severity": "1"})
    view.filters = {**view.filters, "label": "disk", "sort": "-updated"}
    assert service.view_filter(view) == ListFilter(severities=(1,))


def test_a_view_keeps_its_search_and_sort(make):
    """Full-text `q` and `sort` are filters like the others: stored canonically, read back the same."""
    view = service.create_view(make.user(), name="Disks", filters={"q": "disk full", "sort": "newest", "severity": "2"})
    assert view.filters == {"severity": "2", "q": "disk full", "sort": "newest"}
    assert service.view_filter(view) == ListFilter(severities=(2,), q="disk full", sort="newest")


def test_a_searching_views_count_is_its_matches(make):
    """The count runs the search as the list does: the matching tickets only, other filters as well."""
    person = make.user()
    make.ticket(title="Disk full on web01", severity=2)
    make.ticket(title="Disk full on db02", severity=1)
    make.ticket(title="Printer jam", severity=2)
    views = [service.create_view(person, name=name, filters=filters) for name, filters in (
        ("Disks", {"q": "disk"}), ("SEV 2 disks", {"q": "disk", "severity": "2"}), ("Jams", {"q": "jam -printer"}))]
    assert list(service.counts(person, views).values()) == [2, 1, 0]


@pytest.mark.parametrize("filters,field", [
    ({"severity": "9"}, "filters.severity"), ({"status": "WAITING"}, "filters.status"),
    ({"queue": "abc"}, "filters.queue"), ({"assigneeId": "someone"}, "filters.assigneeId"),
    ({"updatedSince": "yesterday"}, "filters.updatedSince"), ({"bogus": "1"}, "filters.bogus"),
    ({"status": True}, "filters.status"), ({"severity": None}, "filters.severity"),
    ({"severity": [["1"]]}, "filters.severity"), ({"dedupKey": "x" * 501}, "filters.dedupKey"),
    ({"dedupKey": "a\x00b"}, "filters.dedupKey"), (["severity"], "filters"),
])
def test_a_bad_filter_is_refused_by_its_name(make, filters, field):
    with pytest.raises(ValidationError) as refused:
        service.create_view(make.user(), name="Bad", filters=filters)
    assert field in refused.value.fields


# Names


@pytest.mark.parametrize("name", ["", "   ", "x" * 81, "a\x00b", "two\nlines", "tab\there", "bell\x07",
                                  "rtl\u202eevil", "\ud800"])
def test_names_must_be_1_to_80_characters_without_control_characters(make, name):
    with pytest.raises(ValidationError) as refused:
        service.create_view(make.user(), name=name, filters={})
    assert set(refused.value.fields) == {"name"}


def test_a_name_keeps_its_letters_and_loses_surrounding_spaces(make):
    person = make.user()
    assert service.create_view(person, name="  Ünïcode – SEV 1 👩‍💻  ", filters={}).name == "Ünïcode – SEV 1 👩‍💻"
    assert service.create_view(person, name="x" * 80, filters={}).name == "x" * 80


def test_names_are_unique_among_ones_own_views_and_among_shared_views(make):
    alice, bob = make.user(), make.user()
    service.create_view(alice, name="Urgent", filters={})
    service.create_view(bob, name="urgent", filters={})  # someone else's own: fine
    service.create_view(alice, name="URGENT", filters={}, shared=True)  # the shared list is another list
    for owner, shared in ((alice, False), (bob, True)):
        with pytest.raises(ValidationError, match="named"):
            service.create_view(owner, name="Urgent ", filters={}, shared=shared)


def test_sharing_a_view_whose_name_a_shared_view_has_is_refused(make):
    alice = make.user()
    view = service.create_view(alice, name="Open queue", filters={})  # personal: fine
    with pytest.raises(ValidationError, match="shared view"):
        service.update_view(alice, view, shared=True)


def test_the_database_refuses_a_duplicate_name_that_slipped_past_the_check(make, monkeypatch):
    person = make.user()
    service.create_view(person, name="Raced", filters={})
    monkeypatch.setattr(service, "_check_unique", lambda *args, **kwargs: None)
    with pytest.raises(ValidationError, match="just saved"):
        service.create_view(person, name="raced", filters={})


def test_a_person_keeps_at_most_views_max_views(make, monkeypatch):
    monkeypatch.setattr(service, "VIEWS_MAX", 2)
    person = make.user()
    for n in range(2):
        service.create_view(person, name=f"View {n}", filters={})
    with pytest.raises(ValidationError, match="delete one"):
        service.create_view(person, name="One more", filters={})


# Who may change what


@pytest.fixture
def people(make):
    return {"owner": make.user("owner"), "other": make.user("other"), "admin": make.user("boss", role=Role.ADMIN)}


def test_a_personal_view_is_its_owners_alone(people):
    view = service.create_view(people["owner"], name="Mine", filters={})
    assert service.get_view(people["owner"], view.id) is view
    for name in ("other", "admin"):
        with pytest.raises(NotFound):
            service.get_view(people[name], view.id)
        assert view not in service.views_for(people[name])
        assert not service.can_edit(people[name], view)


@pytest.mark.parametrize("who,allowed", [("owner", True), ("other", False), ("admin", True)])
def test_a_shared_view_is_seen_by_all_and_changed_by_its_owner_or_an_admin(people, who, allowed):
    view = service.create_view(people["owner"], name="Team", filters={}, shared=True)
    person = people[who]
    assert service.get_view(person, view.id) is view
    if allowed:
        service.update_view(person, view, name=f"Team by {who}", filters={"severity": "1"})
        assert (view.name, view.filters) == (f"Team by {who}", {"severity": "1"})
        service.delete_view(person, view)
        assert db.session.get(SavedView, view.id) is None
    else:
        for attempt in (lambda: service.update_view(person, view, name="Mine now"),
                        lambda: service.delete_view(person, view)):
            with pytest.raises(Forbidden):
                attempt()


def test_admins_change_builtin_views_but_they_stay_shared(people):
    view = builtin("Open queue")
    with pytest.raises(Forbidden):
        service.update_view(people["owner"], view, name="Everything")
    service.update_view(people["admin"], view, name="Everything open")
    assert view.name == "Everything open"
    with pytest.raises(ValidationError) as refused:
        service.update_view(people["admin"], view, shared=False)
    assert set(refused.value.fields) == {"shared"}


# Audit


def view_events(view_id: int) -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.target_type == "view", AuditEvent.target_id == view_id)
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_every_change_is_audited_with_its_before_and_after(people):
    owner = people["owner"]
    view = service.create_view(owner, name="Audited", filters={"severity": "1"})
    service.update_view(owner, view, name="Audited", filters={"severity": "1"})  # nothing changed: no event
    service.update_view(owner, view, name="Renamed", shared=True)
    service.update_view(owner, view, filters={"severity": "2"})
    service.delete_view(owner, view)
    events = view_events(view.id)
    assert [(e.action, e.actor_id, e.ticket_id) for e in events] == [
        ("view_create", owner.id, None), ("view_update", owner.id, None), ("view_update", owner.id, None),
        ("view_delete", owner.id, None)]
    assert events[0].after == {"name": "Audited", "shared": False, "filters": {"severity": "1"}}
    assert (events[1].before, events[1].after) == ({"name": "Audited", "shared": False},
                                                   {"name": "Renamed", "shared": True})
    assert (events[2].before, events[2].after) == ({"name": "Renamed", "filters": {"severity": "1"}},
                                                   {"name": "Renamed", "filters": {"severity": "2"}})
    assert events[3].before == {"name": "Renamed", "shared": True, "filters": {"severity": "2"}}


def test_a_refused_change_writes_nothing(people):
    view = service.create_view(people["owner"], name="Kept", filters={}, shared=True)
    with pytest.raises(Forbidden):
        service.update_view(people["other"], view, name="Taken over")
    assert [e.action for e in view_events(view.id)] == ["view_create"]


# Counts


def test_counts_stop_one_past_the_cap(make):
    bulk_tickets(make, COUNT_CAP + 5)
    assert count_capped(ListFilter(), None) == COUNT_CAP + 1
    assert count_capped(ListFilter(severities=(1,)), None) == 0


def test_a_count_at_the_cap_is_exact(make):
    bulk_tickets(make, COUNT_CAP)
    assert count_capped(ListFilter(), None) == COUNT_CAP


def count_statements(statements) -> list[str]:
    return [statement for statement, _ in statements if "count(" in statement.lower() and "ticket" in statement]


def test_each_count_is_one_statement_with_a_limit_whatever_the_number_of_views(make):
    person = make.user()
    bulk_tickets(make, 30)
    views = [service.create_view(person, name=f"View {n}", filters={"severity": str(n % 5 + 1)}) for n in range(6)]
    with recorded_queries() as statements:
        service.counts(person, views)
    counted = count_statements(statements)
    assert len(counted) == len([s for s in statements if "saved_view" not in s[0] and "SAVEPOINT" not in s[0]])
    assert len(counted) == len(views)
    assert all(re.search(rf"LIMIT {COUNT_CAP + 1}\b", statement) for statement in counted), counted


@pytest.fixture
def page_sized_cap(monkeypatch):
    """A cap of a page's size, as 1,001 is to a big table: of 3,000 tickets (450 open) a planner may well
    read 1,001 by the table. (The real cap at 100k: tests/test_scale.py.)"""
    monkeypatch.setattr(listing, "COUNT_CAP", 50)
    listing.count_statement.cache_clear()
    yield
    listing.count_statement.cache_clear()  # no statement built with this cap may outlive the test


@pytest.mark.parametrize("args", [{}, {"severity": "1"}, {"assignee": "me"}, {"assignee": "unassigned"},
                                  {"assignee": "unassigned", "status": "OPEN"}, {"queue": "QUEUE"},
                                  {"status": "RESOLVED"}, {"status": "all"},
                                  {"status": "all", "updatedSince": "2000-01-01T00:00:00Z"}])
def test_every_count_reads_tickets_through_an_index_and_stops_at_the_cap(big_queue, page_sized_cap, args):
    """A count reads an index, and no more than the cap + 1 matching entries of it."""
    viewer_id, queue_id = big_queue
    args = {key: str(queue_id) if value == "QUEUE" else value for key, value in args.items()}
    with recorded_queries() as statements:
        count_capped(ListFilter.from_web_args(args), db.session.get(User, viewer_id))
    (statement, parameters), = [s for s in statements if "FROM ticket" in s[0]]
    plan = plan_for(statement, parameters)
    access = ticket_access(plan)
    assert re.search(r"index (only )?(scan (using|on) )?(ix_ticket_\w+|.*covering index ix_ticket_\w+)", access), plan
    assert "seq scan" not in access and not re.search(r"^\s*scan ticket\s*$", access, re.M), plan
    assert re.search(r"LIMIT 51\b", statement), statement
    if db.session.get_bind().dialect.name == "postgresql":
        assert plan.splitlines()[1].strip().startswith("->  limit"), plan
    assert not re.search(r"\b(category|cti_type|item|user_1)\b", ticket_free(plan)), plan
    if args.get("assignee") == "unassigned":  # read along an assignee index, not sifted from the queue's
        assert re.search(r"ix_ticket_(active_)?assignee", access), plan


def ticket_free(plan: str) -> str:
    """The plan lines that are not about the ticket table: the name joins a count must not need."""
    return "\n".join(line for line in plan.splitlines() if "ticket" not in line)
