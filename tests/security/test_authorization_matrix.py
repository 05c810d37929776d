"""Every route of app.url_map x six kinds of caller, checked against one declared table.

A route added without a row here fails the suite, and so does a row whose route is gone. Each
row names who may call the route; the outcome for every caller follows from that:

    caller       public  staff   admin   api
    anonymous    ok      login   login   401
    agent        ok      ok      403     401   (a session is never an API credential)
    admin        ok      ok      ok      401
    service key  ok      login   login   ok    (a key never opens an HTML page)
    wrong key    ok      login   login   401
    deactivated  ok      login   login   401   (their old session, their key)

"ok" means the caller got past authorization: any answer but 401, 403 or a sign-in redirect
(a 404 or 422 for the placeholder data is still "in").
"""
import pytest

from webapp.extensions import db
from webapp.models import DeliveryStatus, Role, WebhookDelivery
from webapp.services import comments, webhooks
from webapp.services.users import set_active
from webapp.timeutil import utcnow

from ..conftest import CsrfClient
from ..factories import PASSWORD

PUBLIC, STAFF, ADMIN, API = "public", "staff", "admin", "api"
CALLERS = ("anonymous", "wrong key", "deactivated", "service key", "agent", "admin")  # writers last
OUTCOMES = {
    PUBLIC: dict.fromkeys(CALLERS, "ok"),
    STAFF: {"anonymous": "login", "agent": "ok", "admin": "ok", "service key": "login",
            "wrong key": "login", "deactivated": "login"},
    ADMIN: {"anonymous": "login", "agent": 403, "admin": "ok", "service key": "login",
            "wrong key": "login", "deactivated": "login"},
    API: {"anonymous": 401, "agent": 401, "admin": 401, "service key": "ok",
          "wrong key": 401, "deactivated": 401},
}

# endpoint -> who may call it (every method the rule accepts).
TABLE = {
    "static": PUBLIC, "auth.login": PUBLIC, "ops.healthz": PUBLIC, "ops.readyz": PUBLIC,
    "ops.metrics": PUBLIC,  # its own check: a token, or a direct call from an allowed network
    "api.api_docs": PUBLIC, "api.openapi_json": PUBLIC,
    "auth.logout": STAFF,
    **dict.fromkeys([
        "web.dashboard", "web.my_tickets", "web.new_ticket", "web.create_ticket", "web.ticket",
        "web.ticket_comments", "web.ticket_audit", "web.change_field", "web.reroute", "web.edit_text",
        "web.edit_text_form", "web.show_text", "web.add_comment", "web.delete_comment", "web.preview",
        "web.cti_types", "web.cti_items"], STAFF),
    **dict.fromkeys([
        "admin.overview", "admin.users", "admin.user_new", "admin.user_edit", "admin.user_password",
        "admin.user_deactivate", "admin.user_reactivate", "admin.user_key", "admin.cti", "admin.cti_add",
        "admin.cti_edit", "admin.cti_name", "admin.cti_rename", "admin.cti_deactivate",
        "admin.cti_reactivate", "admin.cti_delete", "admin.log", "webhooks.index", "webhooks.new",
        "webhooks.detail", "webhooks.edit", "webhooks.redeliver"], ADMIN),
    **dict.fromkeys([
        "api.me", "api.list_tickets", "api.create_ticket", "api.get_ticket", "api.update_ticket",
        "api.list_comments", "api.add_comment", "api.get_comment", "api.delete_comment",
        "api.ticket_audit", "api.list_categories", "api.list_types", "api.list_items",
        "api.list_users"], API),
}


def routes(app):
    return sorted((rule.endpoint, rule.rule, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def test_every_route_has_a_row_and_every_row_a_route(app):
    endpoints = {endpoint for endpoint, _, _ in routes(app)}
    assert sorted(endpoints - TABLE.keys()) == [], "routes missing from TABLE"
    assert sorted(TABLE.keys() - endpoints) == [], "TABLE rows for routes that no longer exist"


@pytest.fixture
def world(make):
    """Objects for every placeholder, and a client per caller."""
    admin = make.user("matrix-admin", role=Role.ADMIN)
    agent = make.user("matrix-agent")
    service = make.user("matrix-bot", role=Role.SERVICE)
    gone_person, gone_bot = make.user("matrix-gone"), make.user("matrix-gone-bot", role=Role.SERVICE)
    category, cti_type, item = make.cti("Matrix", "Routes", "Row")
    ticket = make.ticket(actor=agent, cti=(category, cti_type, item))
    comment = comments.add_comment(agent, ticket, "a comment to point at")
    bots_comment = comments.add_comment(service, ticket, "the service account's own comment")
    hook = webhooks.create_webhook(admin, name="matrix", url="http://127.0.0.1:9/hook", secret="s" * 24,
                                   events=["create"])
    delivery = WebhookDelivery(webhook_id=hook.id, audit_event_id=_first_event(ticket),
                               status=DeliveryStatus.FAILED, attempts=1, next_attempt_at=utcnow(),
                               created_at=utcnow())
    db.session.add(delivery)
    db.session.commit()
    values = {"display_id": ticket.display_id, "ref": ticket.display_id, "comment_id": comment.id,
              "user_id": agent.id, "level": "item", "entry_id": item.id, "webhook_id": hook.id,
              "delivery_id": delivery.id, "action": "status", "part": "title", "filename": "css/ui.css"}
    # Only authors and admins delete comments: through the API the key deletes its own.
    api_values = dict(values, comment_id=bots_comment.id)
    return {"values": values, "api_values": api_values, "keys": {"service key": service.plain_api_key, "wrong key": "sk_" + "x" * 43,
                                       "deactivated": gone_bot.plain_api_key},
            "gone": (gone_person, gone_bot)}


def _first_event(ticket):
    from webapp.models import AuditEvent

    return db.session.scalar(db.select(AuditEvent.id).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id))


def client_for(app, caller: str, world) -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    logins = {"agent": "matrix-agent", "admin": "matrix-admin", "deactivated": "matrix-gone"}
    if caller in logins:
        assert client.post("/login", data={"username": logins[caller], "password": PASSWORD}).status_code == 303
    return client


def outcome(response) -> object:
    if response.status_code in (401, 403):
        return response.status_code
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/login?next=" in location:  # sent to sign in first
        return "login"
    return "ok"


def path_for(rule: str, values: dict) -> str:
    path = rule
    for name, value in values.items():
        for converter in ("", "int:", "path:", "any(category,type,item):", "any(status, assignee, severity):",
                          "any(title, overview):"):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no value for a placeholder in {rule}"
    return path


def request(client, method: str, path: str, caller: str, world):
    headers = {}
    if caller in world["keys"]:
        headers["X-Api-Key"] = world["keys"][caller]
    if path.startswith("/api/") and method in ("POST", "PATCH"):
        return client.open(path, method=method, json={}, headers=headers)
    return client.open(path, method=method, data={}, headers=headers)


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_each_caller_gets_what_the_table_says(app, world, endpoint):
    if endpoint == "ops.readyz" and db.engine.dialect.name == "sqlite":
        pytest.skip("readiness opens a second SQLite connection, which waits out this test's open write "
                    "transaction; the PostgreSQL pass checks it")
    rules = [(rule, method) for name, rule, method in routes(app) if name == endpoint]
    assert rules, f"{endpoint} has no route"
    clients = {caller: client_for(app, caller, world) for caller in CALLERS}
    for person in world["gone"]:
        set_active(None, person, False)
    for rule, method in rules:
        path = path_for(rule, world["api_values" if rule.startswith("/api/") else "values"])
        for caller in CALLERS:
            got = outcome(request(clients[caller], method, path, caller, world))
            assert got == OUTCOMES[TABLE[endpoint]][caller], f"{caller} {method} {path}"
