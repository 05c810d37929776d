"""Bulk changes in the service layer: each ticket changed as a single change would change it (or, with
the reason, not at all), a transaction per chunk, and jobs that resume without changing a ticket twice."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkJobItem, BulkStatus, Comment, OutboxEvent, Role, Status, Ticket
from webapp.services import NotFound, ValidationError, bulk, bulk_jobs
from webapp.services.listing import ListFilter, count_capped
from webapp.services.outbox import DISPATCH_JOB
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow


def events(ticket, action=None) -> list[AuditEvent]:
    query = sa.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id)
    return list(db.session.scalars(query.filter_by(action=action) if action else query))


def targets(*tickets, **versions) -> list[bulk.Target]:
    return [bulk.Target(t.display_id, versions.get(t.display_id)) for t in tickets]


def apply(actor, refs, **changes) -> bulk.Outcome:
    return bulk_jobs.change_now(actor, bulk.clean_changes(changes), refs)[1]


def closed_ticket(make, agent):
    ticket = make.ticket(actor=agent)
    change_status(agent, ticket, "RESOLVED")
    change_status(agent, ticket, "CLOSED")
    return ticket


@pytest.fixture
def agent(make):
    return make.user("agent")


def test_each_ticket_gets_its_own_audit_event_and_outbox_row(make, agent):
    tickets = [make.ticket(actor=agent) for _ in range(3)]
    outcome = apply(agent, targets(*tickets), status="IN_PROGRESS")
    assert outcome.updated == [t.display_id for t in tickets] and outcome.failed == []
    for ticket in tickets:
        db.session.refresh(ticket)
        assert ticket.status == Status.IN_PROGRESS and ticket.version == 2
        [event] = events(ticket, "status")
        assert (event.actor_id, event.before, event.after) == (agent.id, "OPEN", "IN_PROGRESS")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                 .filter_by(audit_event_id=event.id)) == 1


def test_refusals_are_listed_with_their_reason_and_the_rest_still_change(make, agent):
    resolved, closed, open_ = make.ticket(actor=agent), closed_ticket(make, agent), make.ticket(actor=agent)
    change_status(agent, resolved, "RESOLVED")
    refs = targets(resolved, closed, open_) + [bulk.Target("V000000000"), bulk.Target(resolved.display_id),
                                               bulk.Target(str(open_.id))]
    outcome = apply(agent, refs, status="IN_PROGRESS")
    assert outcome.updated == [resolved.display_id, open_.display_id]
    assert [(f.ticket, f.code) for f in outcome.failed] == [
        (closed.display_id, "invalid"), ("V000000000", "not_found"), (str(open_.id), "not_found"),
        (resolved.display_id, "duplicate")]
    assert outcome.failed[2].message == f"No ticket {open_.id}; give display ids (V#########)."
    assert outcome.failed[0].fields == {"status": "Closed tickets are final; file a new ticket instead."}
    assert outcome.failed[0].reason == "Closed tickets are final; file a new ticket instead."
    assert closed.status == Status.CLOSED and len(events(resolved, "status")) == 2  # resolved, then re-opened


def test_tickets_already_as_asked_count_as_updated_and_write_nothing(make, agent):
    resolved, open_ = make.ticket(actor=agent), make.ticket(actor=agent)
    change_status(agent, resolved, "RESOLVED")
    outcome = apply(agent, targets(resolved, open_), status="CLOSED")
    assert outcome.updated == [resolved.display_id]
    [refused] = outcome.failed
    assert refused.reason == "Only a resolved ticket can be closed; resolve it first."
    again = apply(agent, targets(resolved), status="CLOSED")
    assert again.updated == [resolved.display_id] and len(events(resolved, "status")) == 2
    assert open_.status == Status.OPEN and events(open_, "status") == []


def test_a_ticket_takes_all_of_its_changes_or_none(make, agent):
    """Severity is applied before status: a ticket that refuses the status keeps its old severity too."""
    open_, resolved = make.ticket(actor=agent, severity=4), make.ticket(actor=agent, severity=4)
    change_status(agent, resolved, "RESOLVED")
    outcome = apply(agent, targets(open_, resolved), severity=1, status="CLOSED", comment="Closing out.")
    assert outcome.updated == [resolved.display_id]
    assert [f.ticket for f in outcome.failed] == [open_.display_id]
    db.session.refresh(open_)
    assert (open_.severity, open_.status, open_.version) == (4, Status.OPEN, 1)
    assert [e.action for e in events(open_)] == ["create"]
    assert db.session.scalars(sa.select(Comment).filter_by(ticket_id=open_.id)).all() == []
    assert [e.action for e in events(resolved)][-3:] == ["severity", "status", "comment_add"]


def test_a_stale_version_is_a_conflict_for_that_ticket_alone(make, agent):
    first, second = make.ticket(actor=agent), make.ticket(actor=agent)
    change_status(agent, second, "IN_PROGRESS")  # someone moved it on since version 1 was read
    outcome = apply(agent, targets(first, second, **{first.display_id: 1, second.display_id: 1}), severity=2)
    assert outcome.updated == [first.display_id]
    [conflict] = outcome.failed
    assert (conflict.ticket, conflict.code) == (second.display_id, "conflict")
    assert "version 1, now 2" in conflict.message and second.severity == 3


def test_a_write_between_reading_a_chunk_and_changing_it_is_a_conflict_for_that_ticket_alone(
        make, agent, monkeypatch):
    """The ORM's version check refuses the stale UPDATE; only that ticket's savepoint is rolled back,
    not the tickets its chunk changed before it. (On PostgreSQL the chunk's row locks keep other
    transactions from doing this; here the chunk's own transaction does it, after the read.)"""
    before, raced, after = (make.ticket(actor=agent) for _ in range(3))
    load = bulk_jobs.load_targets

    def load_then_race(chunk):
        picked = load(chunk)
        db.session.execute(sa.update(Ticket).where(Ticket.id == raced.id).values(version=Ticket.version + 1)
                           .execution_options(synchronize_session=False))
        return picked

    monkeypatch.setattr(bulk_jobs, "load_targets", load_then_race)
    outcome = apply(agent, targets(before, raced, after), status="IN_PROGRESS", comment="Taking these.")
    assert outcome.updated == [before.display_id, after.display_id]
    assert [(f.ticket, f.code) for f in outcome.failed] == [(raced.display_id, "conflict")]
    db.session.expire_all()
    assert [t.status for t in (before, raced, after)] == [Status.IN_PROGRESS, Status.OPEN, Status.IN_PROGRESS]
    assert len(events(before, "status")) == 1 and events(raced, "status") == []


def test_the_outbox_dispatch_is_asked_for_once_per_chunk(make, agent, monkeypatch):
    tickets = [make.ticket(actor=agent) for _ in range(5)]
    asked = []
    monkeypatch.setattr("webapp.services.base._enqueue", lambda path, *args: asked.append(path))
    monkeypatch.setattr(bulk_jobs, "CHUNK_SIZE", 2)
    apply(agent, targets(*tickets), status="RESOLVED")
    assert asked == [DISPATCH_JOB] * 3  # chunks of 2, 2 and 1; five status events


def test_changes_no_ticket_could_take_are_refused_before_any_ticket_is_touched(make, agent):
    ticket = make.ticket(actor=agent)
    gone = make.user("gone", active=False)
    with pytest.raises(ValidationError) as refused:
        bulk.clean_changes({"status": "DONE", "severity": 9, "assignee_id": gone.id, "category_id": "1",
                            "comment": " "})
    assert set(refused.value.fields) == {"status", "severity", "assignee", "item", "comment"}
    with pytest.raises(ValidationError) as empty:
        bulk.clean_changes({})
    assert set(empty.value.fields) == {"changes"}
    assert [e.action for e in events(ticket)] == ["create"]


def test_more_than_ten_thousand_tickets_are_refused(agent):
    with pytest.raises(ValidationError) as refused:
        bulk_jobs.start_job(agent, bulk.clean_changes({"severity": 2}),
                            targets=[bulk.Target(f"V{n:09d}") for n in range(bulk.BULK_MAX + 1)])
    assert "At most 10,000" in refused.value.fields["tickets"]
    assert db.session.scalars(sa.select(BulkJob)).all() == []


def run(job_id, **kw) -> BulkJob:
    job = bulk_jobs.run_job(job_id, **kw)
    db.session.expire_all()
    return job


def test_a_job_changes_its_targets_and_keeps_each_outcome(make, agent):
    open_, closed = make.ticket(actor=agent), closed_ticket(make, agent)
    refs = targets(open_, closed) + [bulk.Target("V000000000"), bulk.Target(open_.display_id)]
    job = bulk_jobs.start_job(agent, bulk.clean_changes({"status": "RESOLVED"}), targets=refs, enqueue=False)
    assert (job.status, job.total, job.done) == (BulkStatus.QUEUED, 4, 0)
    job = run(job.id)
    assert (job.status, job.total, job.done, job.failed, job.lease) == (BulkStatus.DONE, 4, 4, 3, None)
    outcome = bulk_jobs.job_outcome(job)
    assert outcome.updated == [open_.display_id]
    assert [(f.ticket, f.code) for f in outcome.failed] == [
        (closed.display_id, "invalid"), ("V000000000", "not_found"), (open_.display_id, "duplicate")]
    assert run(job.id) is None  # done: nobody can take it again


class Killed(BaseException):
    """The worker process dying mid-chunk (SIGKILL, OOM): nothing after this line runs."""


def test_a_killed_runner_resumes_after_its_last_commit_and_changes_nothing_twice(make, agent, monkeypatch):
    tickets = [make.ticket(actor=agent) for _ in range(5)]
    monkeypatch.setattr(bulk_jobs, "CHUNK_SIZE", 2)
    job = bulk_jobs.start_job(agent, bulk.clean_changes({"status": "IN_PROGRESS", "comment": "On it."}),
                              targets=targets(*tickets), enqueue=False)
    apply_one, calls = bulk.apply_one, []

    def dies_on_the_fourth(*args):
        calls.append(args)
        if len(calls) == 4:
            raise Killed
        return apply_one(*args)

    monkeypatch.setattr(bulk, "apply_one", dies_on_the_fourth)
    started = utcnow()
    with pytest.raises(Killed):
        bulk_jobs.run_job(job.id, as_of=started)
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.done) == (BulkStatus.RUNNING, 2)  # the second chunk rolled back
    assert [t.status for t in tickets] == [Status.IN_PROGRESS] * 2 + [Status.OPEN] * 3
    assert bulk_jobs.claim(job.id, as_of=started + timedelta(seconds=30)) is None  # still beating
    later = started + bulk_jobs.STALE_AFTER + timedelta(seconds=1)
    assert bulk_jobs.resume_stale(as_of=later) == [job.id]
    job = run(job.id, as_of=later)
    assert (job.status, job.done, job.failed, job.attempts) == (BulkStatus.DONE, 5, 0, 2)
    for ticket in tickets:
        assert ticket.status == Status.IN_PROGRESS
        assert len(events(ticket, "status")) == 1 and len(events(ticket, "comment_add")) == 1
    assert bulk_jobs.job_outcome(job).updated == [t.display_id for t in tickets]


def test_a_filter_job_skips_tickets_its_change_brought_round_again(make, agent, monkeypatch):
    """Moving SEV 1 tickets to SEV 5 puts them after the job's cursor in queue order: they come
    round again and are skipped, not commented on twice."""
    cti = make.cti("Bulk", "Servers", "web01")
    tickets = [make.ticket(actor=agent, cti=cti, severity=severity) for severity in (1, 1, 3, 3, 4)]
    elsewhere = make.ticket(actor=agent)
    monkeypatch.setattr(bulk_jobs, "CHUNK_SIZE", 2)
    changes = bulk.clean_changes({"severity": 5, "comment": "Downgraded."})
    job = bulk_jobs.start_job(agent, changes, filter_args={"categoryId": [str(cti[0].id)]})
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert (job.status, job.total, job.done, job.failed) == (BulkStatus.DONE, 5, 5, 0)
    for ticket in tickets:
        assert ticket.severity == 5 and len(events(ticket, "comment_add")) == 1
    assert elsewhere.severity == 3 and events(elsewhere, "comment_add") == []


def test_a_runner_that_lost_its_lease_commits_nothing(make, agent):
    ticket = make.ticket(actor=agent)
    job = bulk_jobs.start_job(agent, bulk.clean_changes({"status": "RESOLVED"}), targets=targets(ticket),
                              enqueue=False)
    started = utcnow()
    first = bulk_jobs.claim(job.id, as_of=started)
    runner = bulk_jobs._Runner(db.session.get(BulkJob, job.id), first)
    second = bulk_jobs.claim(job.id, as_of=started + bulk_jobs.STALE_AFTER + timedelta(seconds=1))
    assert second not in (None, first)
    with pytest.raises(bulk_jobs.LeaseLost):
        runner.change(runner.targets)
    db.session.expire_all()
    assert ticket.status == Status.OPEN and events(ticket, "status") == []
    assert db.session.scalars(sa.select(BulkJobItem)).all() == []


def test_a_job_that_keeps_dying_is_given_up(make, agent):
    job = bulk_jobs.start_job(agent, bulk.clean_changes({"severity": 2}), targets=targets(make.ticket()),
                              enqueue=False)
    moment = utcnow()
    for _ in range(bulk_jobs.MAX_ATTEMPTS):
        assert bulk_jobs.claim(job.id, as_of=moment) is not None
        moment += bulk_jobs.STALE_AFTER + timedelta(seconds=1)
    assert bulk_jobs.resume_stale(as_of=moment) == []
    db.session.expire_all()
    job = db.session.get(BulkJob, job.id)
    assert job.status == BulkStatus.ERROR and "Stopped after 5 attempts" in job.error


def test_a_filter_matching_more_than_the_limit_is_refused(make, agent, monkeypatch):
    cti = make.cti("Bulk", "Servers", "web02")
    for _ in range(3):
        make.ticket(actor=agent, cti=cti)
    monkeypatch.setattr(bulk_jobs, "BULK_MAX", 2)
    with pytest.raises(ValidationError) as refused:
        bulk_jobs.start_job(agent, bulk.clean_changes({"severity": 2}), filter_args={"categoryId": [str(cti[0].id)]})
    assert "More than 2 tickets match" in refused.value.fields["filter"]
    assert db.session.scalars(sa.select(BulkJob)).all() == []


def test_unknown_filter_arguments_are_refused_not_ignored(agent):
    """Ignored, a misspelt filter would select every ticket."""
    with pytest.raises(ValidationError) as refused:
        bulk_jobs.start_job(agent, bulk.clean_changes({"severity": 2}), filter_args={"stauts": ["OPEN"]})
    assert set(refused.value.fields) == {"stauts"}


def test_counting_stops_at_the_cap(make, agent):
    cti = make.cti("Bulk", "Servers", "web03")
    for _ in range(4):
        make.ticket(actor=agent, cti=cti)
    filters = ListFilter(category=cti[0].id)
    assert count_capped(filters, agent, 3) == 3
    assert count_capped(filters, agent, 10) == 4


def test_a_job_is_shown_to_its_owner_and_to_admins_only(make, agent):
    job = bulk_jobs.start_job(agent, bulk.clean_changes({"severity": 2}), targets=targets(make.ticket()),
                              enqueue=False)
    assert bulk_jobs.get_job(agent, job.id) is job
    assert bulk_jobs.get_job(make.user("boss", role=Role.ADMIN), job.id) is job
    with pytest.raises(NotFound):
        bulk_jobs.get_job(make.user("colleague"), job.id)


def savepoints_and_locks(agent, tickets, **changes) -> tuple[int, list[str]]:
    """SAVEPOINTs and locking reads a bulk change of `tickets` sends (the test's own transaction
    adds some per commit: compare counts for more and fewer tickets)."""
    from .web.test_queries import recorded_queries

    with recorded_queries() as statements:
        apply(agent, targets(*tickets), **changes)
    texts = [text for text, _ in statements]
    return sum(text.startswith("SAVEPOINT") for text in texts), [text for text in texts if "FOR UPDATE" in text]


def savepoints_per_ticket(make, agent, **changes) -> int:
    few, more = ([make.ticket(actor=agent) for _ in range(count)] for count in (2, 5))
    return (savepoints_and_locks(agent, more, **changes)[0] - savepoints_and_locks(agent, few, **changes)[0]) // 3


@pytest.mark.postgres
def test_on_postgresql_a_chunk_locks_its_rows_and_a_one_part_change_needs_no_savepoint(make, agent):
    """The lock keeps other writers from moving a version on under the chunk; a single action refuses
    before it writes, so only a change of several parts needs a savepoint per ticket."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; there every ticket has a savepoint")
    locks = savepoints_and_locks(agent, [make.ticket(actor=agent)], status="RESOLVED")[1]
    [lock] = [text for text in locks if "FROM ticket" in text]
    assert lock.endswith("ORDER BY ticket.id FOR UPDATE OF ticket")
    assert savepoints_per_ticket(make, agent, status="IN_PROGRESS") == 0
    assert savepoints_per_ticket(make, agent, severity=1, comment="Escalated.") == 1


def test_on_sqlite_every_ticket_has_a_savepoint(make, agent):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the chunk's rows instead")
    locks = savepoints_and_locks(agent, [make.ticket(actor=agent)], status="RESOLVED")[1]
    assert [text for text in locks if "FROM ticket" in text] == []
    assert savepoints_per_ticket(make, agent, status="IN_PROGRESS") == 1


def statements_per_ticket(make, agent, **changes) -> int:
    from .web.test_queries import recorded_queries

    def count(n):
        before = make.user()
        route = make.cti("Bulk", "Servers")  # an item of its own
        tickets = [make.ticket(actor=agent, cti=route, assignee=before) for _ in range(n)]
        with recorded_queries() as statements:
            apply(agent, targets(*tickets), **changes)
        return len(statements)

    return (count(5) - count(2)) // 3


def test_assigning_or_rerouting_reads_no_person_or_route_per_ticket(make, agent):
    """The chunk's tickets come without their related rows; the few a chunk shares are read once.
    (A reroute's route check reads cache_version each time outside a request: services.recent.)"""
    route = make.cti("Bulk", "Servers", "new route")
    per_title = statements_per_ticket(make, agent, title="Renamed in bulk")  # the ticket and its event: 2
    assert statements_per_ticket(make, agent, assignee_id=agent.id) == per_title
    # a status change and a reroute also move report rollup cells (the first response's; the day x
    # category and day x item cells), but a chunk sums them and writes each cell once
    # (report_rollups.deferred): tickets sharing their cells add none; a reroute adds its route check
    assert statements_per_ticket(make, agent, status="IN_PROGRESS") == per_title
    assert statements_per_ticket(make, agent, category_id=route[0].id, type_id=route[1].id,
                                 item_id=route[2].id) == per_title + 1
