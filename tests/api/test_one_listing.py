"""The dashboard and the API list tickets through one module: same filters, same order, same cursors;
the admin log and webhook deliveries page with its keyset helper."""
import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import AuthActions
from webapp.extensions import db
from webapp.models import AuditEvent, Role, WebhookDelivery
from webapp.services import cti_admin, listing
from webapp.services import webhooks as webhook_service
from webapp.services.tickets import change_status
from webapp.admin.log import admin_events
from webapp.db.utc import utcnow


def web_listed(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    return re.findall(r'<td class="col-id"><a class="mono" href="/tickets/(V\d{9})"', response.get_data(as_text=True))


def api_listed(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["displayId"] for item in response.get_json()["items"]]


@pytest.fixture
def people(app, make, keys):
    """alice (signed in on the web, and holding an API key), bob, and a mixed queue of tickets."""
    alice, bob = keys.agent, make.user("bob")
    web = app.test_client()
    AuthActions(web).login("alice")
    infra, office = make.cti("Infra", "Servers"), make.cti("Office", "Printers")
    moment = utcnow() - timedelta(hours=1)
    for n in range(14):
        ticket = make.ticket(actor=alice, severity=n % 4 + 1, cti=(infra, office)[n % 2],
                             assignee=(alice, bob, None)[n % 3])
        ticket.created_at = moment - timedelta(minutes=n % 5)  # ties on (severity, created_at): id decides
        if n % 4 == 3:
            change_status(alice, ticket, "RESOLVED")
    db.session.commit()
    return web, alice, bob, infra[0].id


def agent_api(client, alice):
    def get(path):
        return client.get(path, headers={"X-Api-Key": alice.plain_api_key})
    return get


@pytest.mark.parametrize("web_args,api_args", [
    ("", "status=active"),
    ("status=all", ""),
    ("status=RESOLVED", "status=resolved"),
    ("status=OPEN,RESOLVED", "status=OPEN&status=RESOLVED"),
    ("severity=2", "severity=2"),
    ("status=all&severity=1,3", "severity=3,1"),
    ("queue={cat}", "status=active&categoryId={cat}"),
    ("categoryId={cat}", "status=active&queue={cat}"),
    ("assignee=unassigned", "status=active&assigneeId=unassigned"),
    ("assignee=none", "status=active&assigneeId=none"),
    ("status=all&assignee=unassigned", "assigneeId=none"),
    ("assignee=me", "status=active&assigneeId=me"),
    ("assignee={bob}", "status=active&assigneeId={bob}"),
    ("status=all&severity=1&queue={cat}&assignee={bob}", "severity=1&categoryId={cat}&assignee={bob}"),
])
def test_web_and_api_list_the_same_tickets_in_the_same_order(client, people, web_args, api_args):
    web, alice, bob, cat = people
    web_ids = web_listed(web.get("/?" + web_args.format(cat=cat, bob=bob.id)))
    api_ids = api_listed(agent_api(client, alice)("/api/tickets?limit=100&" + api_args.format(cat=cat, bob=bob.id)))
    assert web_ids == api_ids and web_ids


def test_unassigned_is_the_canonical_sentinel_and_none_its_alias(people):
    assert listing.ListFilter.from_api_args({"assigneeId": "none"}) == listing.ListFilter.from_api_args(
        {"assigneeId": "unassigned"})
    assert listing.ListFilter.from_web_args({"assignee": "None"}).as_args() == {"assignee": "unassigned"}


def test_one_cursor_text_pages_the_web_and_the_api(client, people, monkeypatch):
    web, alice, _, _ = people
    get = agent_api(client, alice)
    everything = api_listed(get("/api/tickets?limit=100"))
    monkeypatch.setattr(listing, "PAGE_SIZE", 4)
    html = web.get("/?status=all").get_data(as_text=True)
    web_after = parse_qs(urlsplit(re.search(r'rel="next" href="([^"]+)"', html)[1].replace("&amp;", "&")).query)
    api_page = get(f"/api/tickets?limit=4&cursor={quote(web_after['after'][0])}")
    assert api_listed(api_page) == everything[4:8]
    api_next = parse_qs(urlsplit(api_page.get_json()["next"]).query)["cursor"][0]
    assert web_listed(web.get(f"/?status=all&after={quote(api_next)}")) == everything[8:12]
    assert web_listed(web.get(f"/?status=all&before={quote(api_next)}")) == everything[3:7]


@pytest.mark.parametrize("cursor", ["forged", "1.2", "W10.abc", "%00", "1." + "9" * 40 + ".1"])
def test_a_malformed_cursor_is_refused_by_the_api_and_ignored_by_the_web(client, people, cursor):
    web, alice, _, _ = people
    response = agent_api(client, alice)(f"/api/tickets?cursor={cursor}")
    assert response.status_code == 422 and "cursor" in response.get_json()["error"]["fields"]
    assert web_listed(web.get(f"/?after={cursor}")) == web_listed(web.get("/"))


def test_the_admin_log_pages_older_and_newer_with_the_shared_helper(app, make):
    boss = make.user("boss", role=Role.ADMIN)
    _, typ, _ = make.cti("Infra", "Servers", "Seed")
    for n in range(7):
        cti_admin.add_entry(boss, "item", f"Item {n}", typ.id)
    expected = list(db.session.scalars(
        sa.select(AuditEvent.id).where(AuditEvent.ticket_id.is_(None)).order_by(AuditEvent.id.desc())))
    assert len(expected) > 6
    pages, page = [], admin_events(limit=3)
    while True:
        pages.append([event.id for event in page.items])
        if page.next_after is None:
            break
        page = admin_events(before_id=page.next_after[0], limit=3)
    assert [ident for ids in pages for ident in ids] == expected and all(len(ids) == 3 for ids in pages[:-1])
    back = admin_events(after_id=page.prev_before[0], limit=3)
    assert [event.id for event in back.items] == pages[-2]
    first = admin_events(after_id=expected[3], limit=3)
    assert [event.id for event in first.items] == expected[:3] and first.prev_before is None


def test_webhook_deliveries_page_through_to_the_last_page_without_an_empty_one(client, make, loopback_allowed):
    admin = make.user("root", role=Role.ADMIN)
    AuthActions(client).login("root")
    hook = webhook_service.create_webhook(admin, name="n8n", url="http://127.0.0.1:9/hook", secret="s" * 32,
                                          events=[], active=True)
    db.session.execute(sa.delete(WebhookDelivery))  # the webhook's own creation, still pending
    count = webhook_service.DELIVERIES_PAGE * 2  # exactly two full pages: the second must not offer a third
    event_ids = db.session.scalars(sa.insert(AuditEvent).returning(AuditEvent.id), [
        {"action": "comment_add", "created_at": utcnow()} for _ in range(count)]).all()
    db.session.execute(sa.insert(WebhookDelivery), [
        {"webhook_id": hook.id, "audit_event_id": event_id, "status": "FAILED", "attempts": 1,
         "next_attempt_at": None, "created_at": utcnow()} for event_id in event_ids])
    db.session.commit()
    expected = list(db.session.scalars(
        sa.select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook.id).order_by(WebhookDelivery.id.desc())))
    seen, url, pages = [], f"/admin/webhooks/{hook.id}", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [int(ident) for ident in re.findall(rf"/admin/webhooks/{hook.id}/deliveries/(\d+)/redeliver", html)]
        older = re.search(r'href="([^"]+)">Older deliveries', html)
        url, pages = older and older[1].replace("&amp;", "&"), pages + 1
    assert seen == expected and pages == 2
