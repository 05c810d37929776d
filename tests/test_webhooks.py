"""Audit events to signed webhooks through the outbox: admin pages, delivery, retries, failure marking."""
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.jobs import tasks
from webapp.extensions import db
from webapp.models import AuditEvent, DeliveryStatus, OutboxEvent, Role, Status, Webhook, WebhookDelivery
from webapp.services import ValidationError, delivery
from webapp.services import webhooks as service
from webapp.services.comments import add_comment
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow

from .conftest import LOOPBACK_NETWORK
from .factories import Factories
from .jobs_fixtures import (  # noqa: F401
    closed_port_url, committed_app, committed_db, receiver, verify_signature,
)
from .web.test_queries import recorded_queries

SECRET = "s3cret-for-tests-0123456789"


@pytest.fixture
def admin(make):
    return make.user("admin", role=Role.ADMIN)


def hook(admin, url, name="n8n", events=(), active=True, secret=SECRET) -> Webhook:
    return service.create_webhook(admin, name=name, url=url, secret=secret, events=events, active=active)


def deliveries(webhook: Webhook) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WebhookDelivery).filter_by(webhook_id=webhook.id).order_by("id")))


def make_due(webhook: Webhook) -> None:
    """Let time pass: every pending delivery of this webhook is due now."""
    db.session.execute(
        sa.update(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id,
                                         WebhookDelivery.status == DeliveryStatus.PENDING)
        .values(next_attempt_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


# -- delivery ---------------------------------------------------------------------------------

def test_audit_event_is_delivered_as_signed_json_after_commit(app, make, admin, receiver, loopback_allowed):
    webhook = hook(admin, receiver.url, events=["create"])
    ticket = make.ticket(title="Disk full on backup host")
    [request] = receiver.requests
    assert verify_signature(SECRET, request.headers, request.body)
    body = request.json
    event = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="create")).one()
    assert body["eventId"] == str(event.id) == request.headers["X-Ticketing-Event-Id"]
    assert body["action"] == request.headers["X-Ticketing-Event"] == "create"
    assert body["ticket"]["displayId"] == ticket.display_id
    assert body["after"]["title"] == "Disk full on backup host"
    assert body["actor"]["username"] == ticket.creator.username
    assert request.headers["Content-Type"] == "application/json"
    assert body["ticket"]["id"] == str(ticket.id) and body["actor"]["id"] == str(ticket.creator.id)
    assert body["after"]["cti"]["itemId"] == str(ticket.item_id)  # ids inside values too, as in the API
    [row] = deliveries(webhook)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("DELIVERED", 1, 200, None)
    assert row.delivered_at is not None and row.next_attempt_at is None
    outbox = db.session.scalars(sa.select(OutboxEvent).filter_by(audit_event_id=event.id)).one()
    assert outbox.dispatched_at is not None
    assert not delivery.has_undispatched()


def test_every_delivered_body_is_what_the_openapi_document_describes(app, make, admin, receiver, loopback_allowed):
    from webapp.api.openapi import openapi_document

    from .api.openapi_check import SpecChecker

    hook(admin, receiver.url)
    ticket = make.ticket(title="Checked against the document", assignee=admin)
    change_status(admin, ticket, Status.IN_PROGRESS)
    add_comment(admin, ticket, "A comment")
    make.user("newcomer")  # an admin event: no ticket, a target
    spec = SpecChecker(openapi_document())
    bodies = [request.json for request in receiver.requests]
    assert {"create", "status", "comment_add", "user_create"} <= {body["action"] for body in bodies}
    for body in bodies:
        spec.validate(body, "#/components/schemas/WebhookEvent")
    headers = {parameter["name"] for parameter in spec.spec["webhooks"]["ticketEvent"]["post"]["parameters"]}
    assert headers <= set(receiver.requests[0].headers)


def test_signature_does_not_verify_for_a_changed_body_or_another_secret(app, make, admin, receiver, loopback_allowed):
    hook(admin, receiver.url, events=["create"])
    make.ticket()
    [request] = receiver.requests
    assert not verify_signature(SECRET, request.headers, request.body.replace(b"create", b"delete"))
    assert not verify_signature("another-secret-entirely", request.headers, request.body)
    assert request.headers["X-Ticketing-Signature"] == delivery.sign(
        SECRET, int(request.headers["X-Ticketing-Timestamp"]), request.body
    )


def test_event_filter_limits_what_a_webhook_receives(app, make, admin, receiver, loopback_allowed):
    hook(admin, receiver.url, events=["status"])
    ticket = make.ticket()
    add_comment(ticket.creator, ticket, "looking")
    change_status(ticket.creator, ticket, Status.IN_PROGRESS)
    assert [r.json["action"] for r in receiver.requests] == ["status"]
    assert receiver.requests[0].json["before"] == "OPEN"


def test_empty_filter_receives_every_event_and_inactive_webhooks_none(app, make, admin, receiver, loopback_allowed):
    agent, cti = make.user(), make.cti()
    everything = hook(admin, receiver.url, name="all")
    off = hook(admin, receiver.url, name="off", active=False)
    ticket = make.ticket(actor=agent, cti=cti)
    add_comment(agent, ticket, "hello")
    actions = [r.json["action"] for r in receiver.requests]
    assert actions == ["webhook_create", "webhook_create", "create", "comment_add"]
    assert receiver.requests[1].json["after"]["name"] == "off"
    assert len(deliveries(everything)) == 4
    assert deliveries(off) == []


def test_auto_close_events_go_out_as_the_system(app, make, admin, receiver, loopback_allowed):
    from webapp.services import sweep

    hook(admin, receiver.url, events=["auto_close"])
    ticket = make.ticket()
    change_status(ticket.creator, ticket, Status.RESOLVED)
    sweep.auto_close(as_of=utcnow() + timedelta(days=15))
    [request] = receiver.requests
    assert request.json["actor"] is None
    assert (request.json["before"], request.json["after"]) == ("RESOLVED", "CLOSED")
    assert request.json["ticket"]["displayId"] == ticket.display_id


def test_receiver_answering_500_is_retried_with_exponential_backoff(app, make, admin, receiver, loopback_allowed):
    receiver.answer(500, 500, 204)
    webhook = hook(admin, receiver.url, events=["create"])
    make.ticket()
    [row] = deliveries(webhook)
    assert (row.status, row.attempts, row.last_status_code) == ("PENDING", 1, 500)
    assert row.last_error.startswith("HTTP 500") and "receiver says no" in row.last_error
    first_wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)

    assert tasks.requeue_undelivered() == 0  # not due yet: nothing is sent early
    assert len(receiver.requests) == 1
    make_due(webhook)
    tasks.requeue_undelivered()
    [row] = deliveries(webhook)
    assert (row.status, row.attempts) == ("PENDING", 2)
    assert timedelta(seconds=55) < row.next_attempt_at - utcnow() <= timedelta(seconds=60)

    make_due(webhook)
    tasks.requeue_undelivered()
    [row] = deliveries(webhook)
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("DELIVERED", 3, 204, None)
    assert len({r.headers["X-Ticketing-Event-Id"] for r in receiver.requests}) == 1
    assert [r.headers["X-Ticketing-Attempt"] for r in receiver.requests] == ["1", "2", "3"]


def test_backoff_doubles_each_attempt_up_to_an_hour(app):
    waits = [delivery.backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_down_receiver_is_marked_failed_without_blocking_others(app, make, admin, receiver, loopback_allowed):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    try:
        down = hook(admin, closed_port_url(path="/hook"), name="down", events=["create", "comment_add"])
        healthy = hook(admin, receiver.url, name="healthy", events=["create", "comment_add"])
        ticket = make.ticket()
        add_comment(ticket.creator, ticket, "second event")
        assert [r.json["action"] for r in receiver.requests] == ["create", "comment_add"]
        assert {d.status for d in deliveries(healthy)} == {"DELIVERED"}
        assert {(d.status, d.attempts) for d in deliveries(down)} == {("PENDING", 1)}
        make_due(down)
        tasks.requeue_undelivered()
        failed = deliveries(down)
    finally:
        app.config["WEBHOOK_MAX_ATTEMPTS"] = 10
    assert {(d.status, d.attempts, d.next_attempt_at) for d in failed} == {("FAILED", 2, None)}
    assert all(d.last_error.startswith("Could not connect") and d.last_status_code is None for d in failed)
    assert delivery.due_delivery_ids() == []  # given up: no longer retried


def test_a_delivery_lost_with_its_worker_is_retried_once_its_lease_runs_out(app, make, admin, receiver, loopback_allowed):
    receiver.answer(500, 200)
    webhook = hook(admin, receiver.url, events=["create"])
    make.ticket()
    make_due(webhook)
    [row] = deliveries(webhook)
    assert delivery._claim(row.id) is not None  # a worker took it, then died before recording anything
    assert tasks.requeue_undelivered() == 0  # leased: nobody sends it meanwhile
    make_due(webhook)
    tasks.requeue_undelivered()
    [row] = deliveries(webhook)
    assert (row.status, row.attempts) == ("DELIVERED", 3)


def test_one_dispatch_job_per_transaction_however_many_events(app, make, monkeypatch):
    from webapp.services import base
    from webapp.services.tickets import update_ticket

    ticket = make.ticket()
    requested = []
    monkeypatch.setattr(base, "_enqueue", lambda *job: requested.append(job))  # the job layer's after-commit hook
    update_ticket(ticket.creator, ticket, {"title": "New title", "severity": 1, "status": "IN_PROGRESS"})
    assert requested == [("webapp.jobs.tasks.dispatch_outbox",)]


def _dispatch_statements(batch_size: int) -> tuple[int, list[str]]:
    """Mark every outbox row undispatched, dispatch them, and say what the database was asked."""
    db.session.execute(sa.update(OutboxEvent).values(dispatched_at=None))
    db.session.commit()
    with recorded_queries() as statements:
        dispatched = delivery.dispatch_outbox(batch_size)
    # without the test's own SAVEPOINT around each commit
    return dispatched, [" ".join(text.split()) for text, _ in statements if "SAVEPOINT" not in text]


def _dispatch_step(statement: str) -> str:
    """What a dispatch statement does, in a word."""
    for word, marker in (("claim", "UPDATE outbox_event"), ("webhooks", "FROM webhook"), ("watch", "INSERT INTO watch"),
                         ("events", "FROM audit_event"), ("watchers", "FROM watch"), ("people", 'FROM "user"'),
                         ("people", "FROM user")):
        if marker in statement:
            return word
    return statement


def test_with_no_webhook_a_dispatch_only_claims_its_rows_once_per_batch(app, make):
    """Nothing to send: per batch one claiming UPDATE, the people fan-out's reads of the batch's
    events, watchers and people and its one INSERT of the new watches (the filers), and one look for
    webhooks; a short batch ends the run (it saw every waiting row) instead of claiming again."""
    for _ in range(3):
        make.ticket()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
    dispatched, statements = _dispatch_statements(batch_size=waiting + 1)
    assert dispatched == waiting
    assert [_dispatch_step(s) for s in statements] == ["claim", "events", "watchers", "people", "watch", "webhooks"]
    dispatched, statements = _dispatch_statements(batch_size=waiting - 1)  # one full batch, then the rest
    assert dispatched == waiting
    steps = [_dispatch_step(s) for s in statements]
    assert steps[0] == "claim" and steps.count("claim") == 2 and steps.count("webhooks") == 2
    assert steps[steps.index("claim", 1) - 1] == "webhooks" and steps[-1] == "webhooks"
    assert not delivery.has_undispatched()


def test_redirect_is_a_failure_not_followed(app, make, admin, receiver, loopback_allowed):
    receiver.answer(302)
    webhook = hook(admin, receiver.url, events=["create"])
    make.ticket()
    [row] = deliveries(webhook)
    assert (row.status, row.last_status_code) == ("PENDING", 302)
    assert [r.path for r in receiver.requests] == ["/hook"]


def test_a_delivery_is_sent_once_even_if_its_job_runs_twice(app, make, admin, receiver, loopback_allowed):
    webhook = hook(admin, receiver.url, events=["create"])
    make.ticket()
    [row] = deliveries(webhook)
    assert delivery.deliver(row.id) is None
    assert tasks.dispatch_outbox() == 0
    assert len(receiver.requests) == 1


def test_deliveries_of_an_inactive_webhook_wait_until_it_is_reactivated(app, make, admin, receiver, loopback_allowed):
    receiver.answer(503, 200)
    webhook = hook(admin, receiver.url, events=["create"])
    make.ticket()
    service.update_webhook(admin, webhook, name=webhook.name, url=webhook.url, events=["create"], active=False)
    make_due(webhook)
    tasks.requeue_undelivered()
    assert [d.status for d in deliveries(webhook)] == ["PENDING"]
    service.update_webhook(admin, webhook, name=webhook.name, url=webhook.url, events=["create"], active=True)
    tasks.requeue_undelivered()
    assert [d.status for d in deliveries(webhook)] == ["DELIVERED"]


def test_an_outbox_backlog_is_delivered_by_the_periodic_requeue(app, make, admin, receiver, loopback_allowed):
    agent, cti = make.user(), make.cti()
    app.config["REDIS_URL"] = closed_port_url("redis", "/0")  # enqueueing fails: work piles up
    try:
        before_webhook = make.ticket(actor=agent, cti=cti)  # in the backlog, but older than the webhook
        hook(admin, receiver.url, events=["create", "comment_add"])
        make.ticket(actor=agent, cti=cti)
        add_comment(agent, before_webhook, "during the outage")
        assert receiver.requests == [] and delivery.has_undispatched()
    finally:
        app.config["REDIS_URL"] = None
    tasks.requeue_undelivered()
    assert [r.json["action"] for r in receiver.requests] == ["create", "comment_add"]
    assert not delivery.has_undispatched()
    tasks.requeue_undelivered()
    assert len(receiver.requests) == 2  # nothing twice


def test_embedded_mode_delivers_on_a_job_thread_not_in_the_request(committed_app, receiver):
    app = committed_app(JOBS_INLINE=False, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    with app.app_context():
        make = Factories()
        webhook = hook(make.user(role=Role.ADMIN), receiver.url, events=["create"])
        make.ticket()
        [request] = receiver.wait_for(1)
        assert request.json["action"] == "create"
        deadline = time.monotonic() + 10
        while [d.status for d in deliveries(webhook)] != ["DELIVERED"] and time.monotonic() < deadline:
            db.session.commit()  # end the read: on SQLite (WAL) it would go on seeing its first snapshot
            time.sleep(0.02)
        assert [d.status for d in deliveries(webhook)] == ["DELIVERED"]
    app.extensions["jobs_executor"].shutdown(wait=True)


# -- administration ---------------------------------------------------------------------------

def test_webhook_changes_are_audited_without_the_secret(app, admin):
    webhook = hook(admin, "https://n8n.example.com/webhook/a")
    service.update_webhook(admin, webhook, name="n8n", url=webhook.url, secret="a-brand-new-secret-value")
    events = db.session.scalars(
        sa.select(AuditEvent).filter_by(target_type="webhook", target_id=webhook.id).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["webhook_create", "webhook_update"]
    assert SECRET not in str(events[0].after)
    assert events[1].after == {"secret": "changed"} and events[1].before == {}
    assert webhook.secret == "a-brand-new-secret-value"


@pytest.mark.parametrize("field, values", [
    ("name", {"name": "  "}),
    ("url", {"url": "ftp://example.com/x"}),
    ("url", {"url": "https://user:pw@example.com/x"}),
    ("secret", {"secret": "short"}),
    ("events", {"events": ["nonsense"]}),
])
def test_invalid_webhooks_are_refused_naming_the_field(app, admin, field, values):
    good = {"name": "n8n", "url": "https://n8n.example.com/hook", "secret": SECRET, "events": []}
    with pytest.raises(ValidationError) as error:
        service.create_webhook(admin, **{**good, **values})
    assert field in error.value.fields


def test_webhook_names_are_unique_ignoring_case(app, admin):
    hook(admin, "https://a.example.com/", name="Pager")
    with pytest.raises(ValidationError) as error:
        hook(admin, "https://b.example.com/", name="pager")
    assert "name" in error.value.fields


@pytest.mark.parametrize("path", ["/admin/webhooks", "/admin/webhooks/new"])
def test_agents_cannot_open_webhook_admin(client, auth, make, path):
    make.user("agent")
    auth.login("agent")
    assert client.get(path).status_code == 403


def test_webhook_admin_requires_sign_in(client):
    response = client.get("/admin/webhooks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_creates_a_webhook_from_the_form(client, auth, admin):
    auth.login("admin")
    form = client.get("/admin/webhooks/new")
    assert form.status_code == 200 and b'name="secret"' in form.data
    response = client.post("/admin/webhooks/new", data={
        "name": "Pager", "url": "https://pager.example.com/in", "secret": SECRET,
        "events": ["create", "status"], "active": "on",
    })
    assert response.status_code == 303
    webhook = db.session.scalars(sa.select(Webhook).filter_by(name="Pager")).one()
    assert (webhook.events, webhook.active, webhook.secret) == (["create", "status"], True, SECRET)
    assert response.headers["Location"].endswith(f"/admin/webhooks/{webhook.id}")
    listing = client.get("/admin/webhooks").get_data(as_text=True)
    assert "Pager" in listing and "https://pager.example.com/in" in listing
    assert SECRET not in listing


def test_webhook_form_errors_show_beside_the_field_and_keep_the_input(client, auth, admin):
    auth.login("admin")
    response = client.post("/admin/webhooks/new", data={
        "name": "Chat", "url": "not a url", "secret": SECRET, "events": ["status"],
    })
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="url-error"' in page and 'value="Chat"' in page and 'value="not a url"' in page
    assert 'value="status" checked' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_webhook_form_refuses_a_post_without_csrf_token(client, auth, admin):
    auth.login("admin")
    response = client.post("/admin/webhooks/new", data={"name": "x", "url": "https://x.example.com"}, csrf=False)
    assert response.status_code == 400


def test_edit_with_a_blank_secret_keeps_the_current_one(client, auth, admin):
    webhook = hook(admin, "https://n8n.example.com/a")
    auth.login("admin")
    page = client.get(f"/admin/webhooks/{webhook.id}/edit").get_data(as_text=True)
    assert SECRET not in page
    response = client.post(f"/admin/webhooks/{webhook.id}/edit", data={
        "name": "n8n renamed", "url": "https://n8n.example.com/b", "secret": "",
    })
    assert response.status_code == 303
    db.session.expire_all()
    assert (webhook.name, webhook.url, webhook.secret, webhook.active) == (
        "n8n renamed", "https://n8n.example.com/b", SECRET, False)


def test_admin_sees_deliveries_with_attempts_last_status_and_error(client, auth, make, admin, receiver, loopback_allowed):
    receiver.answer(500)
    webhook = hook(admin, receiver.url, events=["create"])
    ticket = make.ticket()
    auth.login("admin")
    page = client.get(f"/admin/webhooks/{webhook.id}").get_data(as_text=True)
    assert ticket.display_id in page and "Pending" in page
    assert "500" in page and "HTTP 500" in page and "next try" in page
    failed_only = client.get(f"/admin/webhooks/{webhook.id}?status=FAILED").get_data(as_text=True)
    assert ticket.display_id not in failed_only


def test_admin_redelivers_a_failed_delivery(client, auth, make, admin, receiver, loopback_allowed):
    app_config = client.application.config
    app_config["WEBHOOK_MAX_ATTEMPTS"] = 1
    try:
        receiver.answer(500, 200)
        webhook = hook(admin, receiver.url, events=["create"])
        make.ticket()
        [row] = deliveries(webhook)
        assert row.status == "FAILED"
        auth.login("admin")
        response = client.post(f"/admin/webhooks/{webhook.id}/deliveries/{row.id}/redeliver")
    finally:
        app_config["WEBHOOK_MAX_ATTEMPTS"] = 10
    assert response.status_code == 303
    [row] = deliveries(webhook)
    assert (row.status, row.attempts, row.last_status_code) == ("DELIVERED", 1, 200)
    assert len(receiver.requests) == 2


def test_redeliver_refuses_a_delivery_of_another_webhook(client, auth, make, admin, receiver, loopback_allowed):
    one = hook(admin, receiver.url, name="one", events=["create"])
    other = hook(admin, receiver.url, name="other", events=["create"])
    make.ticket()
    [row] = deliveries(one)
    auth.login("admin")
    assert client.post(f"/admin/webhooks/{other.id}/deliveries/{row.id}/redeliver").status_code == 404


def test_embedded_mode_keeps_one_dispatch_run_waiting(app, monkeypatch):
    from webapp import jobs

    submitted = []
    monkeypatch.setitem(app.config, "JOBS_INLINE", False)
    monkeypatch.setattr(jobs, "_executor", lambda _app: type("Pool", (), {"submit": lambda *a: submitted.append(a)})())
    monkeypatch.setitem(app.extensions, "jobs_pending", set())
    for _ in range(3):
        jobs.enqueue("webapp.jobs.tasks.dispatch_outbox")
        jobs.enqueue("webapp.jobs.tasks.deliver_webhook", 7)  # one job per delivery: never merged
    assert [call[3:] for call in submitted].count(("webapp.jobs.tasks.dispatch_outbox",)) == 1
    assert len(submitted) == 4
    jobs.forget_pending("webapp.jobs.tasks.dispatch_outbox")  # the waiting run has started
    jobs.enqueue("webapp.jobs.tasks.dispatch_outbox")
    assert len(submitted) == 5


def test_send_test_event_posts_signed_through_egress_checks_and_audits_the_answer(
        app, make, admin, receiver, loopback_allowed):
    webhook = hook(admin, receiver.url, active=False)  # a test works before the hook is switched on
    answer = service.send_test(admin, webhook)
    assert answer.ok and answer.status_code == 200 and answer.text == "HTTP 200: ok"
    [request] = receiver.requests
    assert verify_signature(SECRET, request.headers, request.body)
    assert request.json["action"] == "webhook_test" and request.json["test"] is True
    receiver.answer(500, body=b"boom")
    failed = service.send_test(admin, webhook)
    assert not failed.ok and failed.status_code == 500 and "boom" in failed.text
    events = db.session.scalars(sa.select(AuditEvent).filter_by(action="webhook_test").order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.target_id, e.after["ok"]) for e in events] == [(admin.id, webhook.id, True),
                                                                          (admin.id, webhook.id, False)]
    webhook.active = True
    db.session.commit()
    service.send_test(admin, webhook)
    assert len(receiver.requests) == 3  # its audit record is not delivered a second time
    assert all(d.audit_event.action != "webhook_test" for d in deliveries(webhook))


def test_send_test_event_to_a_forbidden_address_sends_nothing(app, make, admin, receiver, monkeypatch):
    webhook = hook(admin, "https://pager.example.com/in")
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", lambda host, port: ["169.254.169.254"])
    answer = service.send_test(admin, webhook)
    assert not answer.ok and answer.status_code is None
    assert "Refused, nothing sent" in answer.text and "link-local" in answer.text
    assert receiver.requests == []


def test_send_test_event_page_is_admin_only_and_shows_the_answer(app, client, make, admin, receiver, loopback_allowed):
    webhook = hook(admin, receiver.url)
    agent = make.user("agent")
    client.post("/login", data={"username": agent.username, "password": "correct horse battery"})
    assert client.post(f"/admin/webhooks/{webhook.id}/test").status_code in (302, 303, 403)
    assert [r for r in receiver.requests if r.json["action"] == "webhook_test"] == []
    client.post("/logout")
    client.post("/login", data={"username": admin.username, "password": "correct horse battery"})
    response = client.post(f"/admin/webhooks/{webhook.id}/test",
                           headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 200 and "Receiver answered" in response.get_data(as_text=True)
    assert client.post(f"/admin/webhooks/{webhook.id}/test", csrf=False).status_code == 400
