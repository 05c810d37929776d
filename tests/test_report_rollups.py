"""The report rollups equal a full recount after any mix of ticket changes, and the backfill agrees."""
import random
from datetime import datetime, timedelta, timezone

import pytest

from webapp.extensions import db
from webapp.models import Status
from webapp.services import report_rollups, sweep, tickets
from webapp.services.report_rollups import bucket, bucket_bounds

START = datetime(2026, 1, 5, 8, 30, tzinfo=timezone.utc)


def _plain(cells: tuple[dict, dict]) -> tuple[dict, dict]:
    return tuple({key: {name: n for name, n in counts.items() if n} for key, counts in part.items()
                  if any(n for name, n in counts.items() if name != "category_id")} for part in cells)


def _assert_rollups_match() -> None:
    connection = db.session.connection()
    assert _plain(report_rollups.stored(connection)) == _plain(report_rollups.recount(connection))


@pytest.fixture
def clock(monkeypatch):
    """The services' time, moved on by the test (never slept for)."""
    now = [START]
    monkeypatch.setattr(tickets, "utcnow", lambda: now[0])
    monkeypatch.setattr(sweep, "utcnow", lambda: now[0])
    return now


def _step(rng, make, agent, routes, open_tickets, clock) -> None:
    clock[0] += timedelta(minutes=rng.choice((1, 7, 45, 300, 1500, 4000)))
    action = rng.choice(("create", "create", "progress", "resolve", "reopen", "reroute", "severity", "sweep"))
    ticket = rng.choice(open_tickets) if open_tickets else None
    if action == "create" or ticket is None:
        open_tickets.append(make.ticket(actor=agent, cti=rng.choice(routes), severity=rng.randint(1, 5)))
    elif action == "sweep":
        sweep.auto_close(as_of=clock[0])
    elif ticket.status == Status.CLOSED:
        open_tickets.remove(ticket)
    elif action in ("progress", "resolve", "reopen"):
        target = {"progress": Status.IN_PROGRESS, "resolve": Status.RESOLVED, "reopen": Status.OPEN}[action]
        if target in tickets.TRANSITIONS[Status(ticket.status)]:
            tickets.change_status(agent, ticket, target)
    elif action == "reroute":
        category, cti_type, item = rng.choice(routes)
        tickets.reroute(agent, ticket, category.id, cti_type.id, item.id)
    else:
        tickets.change_severity(agent, ticket, rng.randint(1, 5))


def test_rollups_equal_a_recount_after_random_changes(app, make, clock):
    rng = random.Random(24)
    agent = make.user()
    routes = [make.cti(category=c, type_=t) for c in ("Infra", "Apps") for t in ("Servers", "Network")]
    open_tickets = []
    for step in range(400):
        _step(rng, make, agent, routes, open_tickets, clock)
        if step % 100 == 99:
            db.session.expire_all()
            for ticket in open_tickets:
                db.session.refresh(ticket)  # the sweep's closes, as a later request would load them
            _assert_rollups_match()
    clock[0] += timedelta(days=30)
    assert sweep.auto_close(as_of=clock[0]) > 0
    _assert_rollups_match()


def test_rebuild_gives_what_the_services_kept(app, make, clock):
    agent = make.user()
    first = make.ticket(actor=agent, severity=2)
    clock[0] += timedelta(hours=3)
    tickets.change_status(agent, first, Status.IN_PROGRESS)
    clock[0] += timedelta(days=2)
    tickets.change_status(agent, first, Status.RESOLVED)
    make.ticket(actor=agent, severity=4)
    connection = db.session.connection()
    kept = _plain(report_rollups.stored(connection))
    db.session.execute(db.text("UPDATE ticket SET first_response_at = NULL"))
    report_rollups.rebuild(connection)  # what migration 0009 runs on existing data
    assert _plain(report_rollups.stored(connection)) == kept
    day = kept[0][(START.date() + timedelta(days=2), first.category_id, 2)]
    assert (day["res_count"], day["res_seconds"]) == (1, int(timedelta(days=2, hours=3).total_seconds()))
    assert kept[0][(START.date(), first.category_id, 2)]["ack_count"] == 1


def test_buckets_double_from_a_minute():
    assert [bucket(s) for s in (0, 59, 60, 119, 120, 239, 240)] == [0, 0, 1, 1, 2, 2, 3]
    assert bucket(10 ** 9) == 19 and bucket_bounds(19)[1] is None
    assert bucket_bounds(1) == (60.0, 120.0) and bucket_bounds(0) == (0.0, 60.0)


def test_rebuild_command_counts_again(app, make, runner):
    make.ticket(severity=2)
    db.session.execute(db.text("DELETE FROM report_day"))
    db.session.commit()
    result = runner.invoke(args=["rebuild-reports"])
    assert result.exit_code == 0 and "counted again" in result.output


def test_open_by_age_is_exact_at_each_boundary(app, make, clock):
    """Whole days from the rollup plus the boundary day's part from the index: the same as counting."""
    from webapp.services.report_filters import parse_filters
    from webapp.services.reports import open_by_age

    agent = make.user()
    now = START + timedelta(days=500)
    ages = [timedelta(hours=h) for h in (1, 23, 25, 24 * 7 - 1, 24 * 7 + 1, 24 * 30 - 1, 24 * 30 + 1, 24 * 400)]
    for age in ages:
        clock[0] = now - age
        make.ticket(actor=agent, severity=2)
    clock[0] = now - timedelta(hours=2)
    tickets.change_status(agent, make.ticket(actor=agent, severity=2), Status.RESOLVED)  # not open
    figures = open_by_age(parse_filters({}, today=now.date()), now=now)
    assert figures["rows"][1]["counts"] == [2, 2, 2, 2] and figures["total"] == len(ages)


def test_percentiles_from_buckets_stay_within_their_bucket():
    from webapp.services.reports import percentile

    buckets = [0] * 20
    buckets[bucket(90 * 60)] = 10  # ten tickets of about 90 minutes: bucket [64, 128) min
    assert 64 * 60 <= percentile(buckets, 0.5) < 128 * 60
    assert percentile([0] * 20, 0.5) is None
    buckets[19] = 100
    assert percentile(buckets, 0.9) == bucket_bounds(19)[0]


def test_a_bulk_change_with_refusals_keeps_the_rollups_exact(app, make, clock):
    """A chunk sums its tickets' rollup deltas and writes them last (report_rollups.deferred); a
    ticket that refuses, its savepoint rolled back, takes its deltas with it."""
    from webapp.services import bulk, bulk_jobs

    agent = make.user()
    routes = [make.cti(category=c, type_="Servers") for c in ("Infra", "Apps")]
    target_route = make.cti(category="Infra", type_="Network")
    filed = []
    for n in range(24):
        clock[0] += timedelta(hours=5)
        filed.append(make.ticket(actor=agent, cti=routes[n % 2], severity=n % 5 + 1))
    for ticket in filed[:6]:  # CLOSED is final: these refuse a move to IN_PROGRESS
        tickets.change_status(agent, ticket, Status.RESOLVED)
        tickets.change_status(agent, ticket, Status.CLOSED)
    clock[0] += timedelta(days=1)
    changes = bulk.clean_changes({"status": "IN_PROGRESS", "severity": 2, "categoryId": target_route[0].id,
                                  "typeId": target_route[1].id, "itemId": target_route[2].id})
    _, outcome = bulk_jobs.change_now(agent, changes, [bulk.Target(t.display_id) for t in reversed(filed)])
    assert len(outcome.updated) == 18 and len(outcome.failed) == 6
    _assert_rollups_match()
