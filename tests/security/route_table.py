"""The declared table: one request for every rule of app.url_map, and what each kind of caller gets.

tests/security/test_authorization_matrix.py checks every row against six callers and fails when a
rule is missing here or a row names a rule that no longer exists; test_csrf_walk.py walks the
state-changing HTML rows. Placeholders in paths and bodies are filled from `World`.
"""
import io
from contextlib import contextmanager
from dataclasses import dataclass, field

from webapp.extensions import db

from ..factories import PASSWORD

ANONYMOUS, AGENT, ADMIN, SERVICE, WRONG_KEY, DEACTIVATED = CALLERS = (
    "anonymous", "agent", "admin", "service-key", "wrong-key", "deactivated")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Redirect:
    """A 302 to `to` (`prefix`: Location only starts with it, e.g. /login?next=…)."""

    to: str
    prefix: bool = False


LOGIN = Redirect("/login?next=", prefix=True)  # the sign-in page, then back here
HOME = Redirect("/")                           # already signed in: nothing to do on /login
REFUSED = (LOGIN, 401, 403)                    # outcomes after which nothing may have changed


def staff(ok):
    """A signed-in person, agent or admin; nobody else, whatever key they hold."""
    return {ANONYMOUS: LOGIN, AGENT: ok, ADMIN: ok, SERVICE: LOGIN, WRONG_KEY: LOGIN, DEACTIVATED: LOGIN}


def admin(ok):
    """A signed-in admin; an agent is told no (403), everyone else is sent to sign in."""
    return {**staff(ok), AGENT: 403}


def api(ok):
    """A valid key of an active account; a session cookie alone does not open the API."""
    return {**dict.fromkeys(CALLERS, 401), SERVICE: ok}


def public(ok, signed_in=None):
    """Anyone; `signed_in` is what a signed-in person gets instead, if it differs."""
    return {**dict.fromkeys(CALLERS, ok), **dict.fromkeys((AGENT, ADMIN), signed_in or ok)}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    path: str
    expect: dict
    form: dict = field(default_factory=dict)
    json: dict | None = None
    files: dict = field(default_factory=dict)  # form field -> (file name, bytes), sent multipart

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


R = Route
TICKET = "/tickets/{ticket}"
ITEM = "/admin/cti/item/{spare_item}"
USER = "/admin/users/{target}"
HOOK = "/admin/webhooks/{webhook}"
NEW_TICKET = {"title": "Disk full", "overview": "On web-1.", "severity": "2", "category_id": "{category}",
              "type_id": "{type}", "item_id": "{item}", "assignee_id": ""}
HOOK_FORM = {"name": "n8n", "url": "https://n8n.example.com/webhook/x", "secret": "s" * 24, "events": "create"}
API_TICKET = "/api/tickets/{ticket}"
VIEW = "/views/{shared_view}"
API_VIEW = "/api/views/{robot_view}"

ROUTES = [
    # sign-in, probes, static files and the API's docs: public
    R("auth.login", "GET", "/login", public(200, signed_in=HOME)),
    R("auth.login", "POST", "/login", public(422, signed_in=HOME), form={"username": "agent", "password": "wrong"}),
    R("auth.logout", "POST", "/logout", staff(303)),
    # a person's own account
    R("auth.profile", "GET", "/profile", staff(200)),
    R("auth.update_settings", "POST", "/profile/settings", staff(303),
      form={"display_name": "Same Person", "email": "me@example.com", "time_zone": "Europe/Berlin", "theme": "dark"}),
    R("auth.update_notifications", "POST", "/profile/notifications", staff(303), form={"comment": "off"}),
    R("auth.change_password", "POST", "/profile/password", staff(303),
      form={"current_password": PASSWORD, "password": "a new password 123"}),
    R("auth.sign_out_everywhere", "POST", "/profile/sign-out-everywhere", staff(303)),
    R("ops.healthz", "GET", "/healthz", public(200)),
    R("ops.readyz", "GET", "/readyz", public(200)),
    R("ops.metrics", "GET", "/metrics", public(200)),  # guarded by address or token, not by sign-in
    R("static", "GET", "/static/css/app.css", public(200)),
    R("api.api_docs", "GET", "/api/docs", public(200)),
    R("api.openapi_json", "GET", "/api/openapi.json", public(200)),
    # the agent UI
    R("web.dashboard", "GET", "/", staff(200)),
    R("web.my_tickets", "GET", "/my-tickets", staff(200)),
    R("web.search_tickets", "GET", "/search?q=disk", staff(303)),
    R("web.reports", "GET", "/reports", staff(200)),
    R("web.report_csv", "GET", "/reports/open-by-age.csv", staff(200)),
    R("web.report_open_chart", "GET", "/reports/open-by-severity", staff(200)),
    R("web.new_ticket", "GET", "/tickets/new", staff(200)),
    R("web.create_ticket", "POST", "/tickets/new", staff(303), form=NEW_TICKET),
    R("web.cti_types", "GET", "/cti/types?category_id={category}", staff(200)),
    R("web.cti_items", "GET", "/cti/items?category_id={category}&type_id={type}", staff(200)),
    R("web.preview", "POST", "/preview", staff(200), form={"body": "**bold**"}),
    R("web.mention_suggestions", "GET", "/mentions?q=a", staff(200)),
    R("web.notifications", "GET", "/notifications", staff(200)),
    R("web.read_notification", "POST", "/notifications/{notification}/read", {**staff(303), AGENT: 404}),  # admin's
    R("web.read_all_notifications", "POST", "/notifications/read-all", staff(303)),
    R("web.watch_ticket", "POST", TICKET + "/watch", staff(303)),
    R("web.add_attachments", "POST", TICKET + "/attachments", staff(303), files={"files": ("notes.txt", b"disk full")}),
    R("web.attachment", "GET", TICKET + "/attachments/{attachment}/boot.log", staff(200)),
    R("web.remove_attachment", "POST", TICKET + "/attachments/{attachment}/remove", staff(303)),
    R("web.unwatch_ticket", "POST", TICKET + "/unwatch", staff(303)),
    R("web.add_link", "POST", TICKET + "/links", staff(303), form={"kind": "parent_of", "ticket": "{spare_ticket}"}),
    R("web.remove_link", "POST", TICKET + "/links/{link}/remove", staff(303)),
    # the signed token in a mail's List-Unsubscribe link is the credential (RFC 8058), no session
    R("web.unsubscribe", "GET", "/notifications/unsubscribe/{unsubscribe}", public(200)),
    R("web.unsubscribe", "POST", "/notifications/unsubscribe/{unsubscribe}", public(200)),
    R("web.ticket", "GET", TICKET, staff(200)),
    R("web.ticket_comments", "GET", TICKET + "/comments", staff(200)),
    R("web.ticket_audit", "GET", TICKET + "/audit", staff(200)),
    R("web.show_text", "GET", TICKET + "/title", staff(200)),
    R("web.edit_text_form", "GET", TICKET + "/overview/edit", staff(200)),
    R("web.edit_text", "POST", TICKET + "/title", staff(303), form={"title": "Disk full on web-1"}),
    R("web.change_field", "POST", TICKET + "/status", staff(303), form={"status": "IN_PROGRESS"}),
    R("web.reroute", "POST", TICKET + "/reroute", staff(303),
      form={"category_id": "{category}", "type_id": "{type}", "item_id": "{other_item}"}),
    R("web.add_comment", "POST", TICKET + "/comments", staff(303), form={"body": "Looking."}),
    R("web.delete_comment", "POST", TICKET + "/comments/{comment}/delete", staff(303)),  # the agent's own
    R("web.show_comment", "GET", TICKET + "/comments/{comment}", staff(200)),
    # the agent's own comment: only its author edits it, an admin too is refused
    R("web.edit_comment_form", "GET", TICKET + "/comments/{comment}/edit", {**staff(200), ADMIN: 403}),
    R("web.edit_comment", "POST", TICKET + "/comments/{comment}", {**staff(303), ADMIN: 403},
      form={"body": "Looking, edited."}),
    R("web.views", "GET", "/views?severity=1", staff(200)),
    R("web.create_view", "POST", "/views", staff(303), form={"name": "Sev 1", "filters": "severity=1"}),
    R("web.update_view", "POST", VIEW, staff(303), form={"name": "Renamed", "filters": ""}),  # shared: owner, admin
    R("web.delete_view", "POST", VIEW + "/delete", staff(303), form={"filters": ""}),
    R("web.bulk_change", "POST", "/tickets/bulk", staff(303), form={"ticket": "{ticket}", "status": "IN_PROGRESS"}),
    R("web.bulk_count", "GET", "/tickets/bulk/count?queue={category}", staff(200)),
    R("web.bulk_assignees", "GET", "/tickets/bulk/assignees", staff(200)),
    R("web.bulk_job", "GET", "/bulk/{bulk_job}", staff(200)),  # the agent's own; admins see any
    # the admin panel
    R("admin.overview", "GET", "/admin", admin(200)),
    R("admin.log", "GET", "/admin/log", admin(200)),
    R("admin.attachments", "GET", "/admin/attachments", admin(200)),
    R("admin.purge_attachment", "POST", "/admin/attachments/{removed_attachment}/purge", admin(303)),
    R("admin.users", "GET", "/admin/users", admin(200)),
    R("admin.user_new", "GET", "/admin/users/new", admin(200)),
    R("admin.user_new", "POST", "/admin/users/new", admin(303),
      form={"username": "newbie", "display_name": "Newbie", "role": "AGENT", "password": "a new password 123"}),
    R("admin.user_edit", "GET", USER, admin(200)),
    R("admin.user_edit", "POST", USER, admin(303), form={"display_name": "Renamed", "role": "AGENT"}),
    R("admin.user_password", "POST", USER + "/password", admin(303), form={"password": "a new password 123"}),
    R("admin.user_deactivate", "POST", USER + "/deactivate", admin(303)),
    R("admin.user_reactivate", "POST", USER + "/reactivate", admin(303)),
    R("admin.user_key", "GET", "/admin/users/{robot}/key", admin(200)),
    R("admin.user_key", "POST", "/admin/users/{robot}/key", admin(303)),  # to the new key's page
    R("admin.user_key_once", "GET", "/admin/users/{robot}/key/once", admin(303)),  # none pending: gone
    R("admin.cti", "GET", "/admin/cti", admin(200)),
    R("admin.cti_add", "POST", "/admin/cti/item", admin(303), form={"name": "Cache", "parent_id": "{type}"}),
    R("admin.cti_edit", "GET", ITEM + "/edit", admin(200)),
    R("admin.cti_name", "GET", ITEM + "/name", admin(303)),  # cancel: back to the tree
    R("admin.cti_rename", "POST", ITEM + "/name", admin(303), form={"name": "Renamed"}),
    R("admin.cti_deactivate", "POST", ITEM + "/deactivate", admin(303)),
    R("admin.cti_reactivate", "POST", ITEM + "/reactivate", admin(303)),
    R("admin.cti_delete", "POST", ITEM + "/delete", admin(303)),
    R("webhooks.index", "GET", "/admin/webhooks", admin(200)),
    R("webhooks.new", "GET", "/admin/webhooks/new", admin(200)),
    R("webhooks.new", "POST", "/admin/webhooks/new", admin(303), form=HOOK_FORM),
    R("webhooks.detail", "GET", HOOK, admin(200)),
    R("webhooks.edit", "GET", HOOK + "/edit", admin(200)),
    R("webhooks.edit", "POST", HOOK + "/edit", admin(303), form={**HOOK_FORM, "name": "renamed"}),
    R("webhooks.redeliver", "POST", HOOK + "/deliveries/{delivery}/redeliver", admin(303)),
    R("webhooks.send_test", "POST", HOOK + "/test", admin(303)),  # its host does not resolve: nothing sent
    # the JSON API
    R("api.me", "GET", "/api/me", api(200)),
    R("api.all_reports", "GET", "/api/reports", api(200)),
    R("api.report_open_by_age", "GET", "/api/reports/open-by-age", api(200)),
    R("api.report_created_resolved", "GET", "/api/reports/created-resolved", api(200)),
    R("api.report_response_times", "GET", "/api/reports/response-times", api(200)),
    R("api.report_top_items", "GET", "/api/reports/top-items", api(200)),
    R("api.report_busiest_hours", "GET", "/api/reports/busiest-hours", api(200)),
    R("api.list_users", "GET", "/api/users", api(200)),
    R("api.list_categories", "GET", "/api/cti/categories", api(200)),
    R("api.list_types", "GET", "/api/cti/types?categoryId={category}", api(200)),
    R("api.list_items", "GET", "/api/cti/items?typeId={type}", api(200)),
    R("api.list_tickets", "GET", "/api/tickets", api(200)),
    R("api.create_ticket", "POST", "/api/tickets", api(201),
      json={"title": "Backup done", "severity": 5, "categoryId": "{category}", "typeId": "{type}", "itemId": "{item}"}),
    R("api.get_ticket", "GET", API_TICKET, api(200)),
    R("api.update_ticket", "PATCH", API_TICKET, api(200), json={"severity": 2}),
    R("api.bulk_tickets", "POST", "/api/tickets/bulk", api(200),
      json={"tickets": ["{ticket}"], "changes": {"severity": 2}}),
    R("api.get_bulk_job", "GET", "/api/bulk/{robot_bulk_job}", api(200)),  # the robot's own
    R("api.ticket_audit", "GET", API_TICKET + "/audit", api(200)),
    R("api.list_comments", "GET", API_TICKET + "/comments", api(200)),
    R("api.add_comment", "POST", API_TICKET + "/comments", api(201), json={"body": "Seen by the robot."}),
    R("api.get_comment", "GET", API_TICKET + "/comments/{comment}", api(200)),
    R("api.edit_comment", "PATCH", API_TICKET + "/comments/{robot_comment}", api(200),
      json={"body": "Seen by the robot, edited."}),  # the robot's own
    R("api.delete_comment", "DELETE", API_TICKET + "/comments/{robot_comment}", api(204)),  # the robot's own
    R("api.list_views", "GET", "/api/views", api(200)),
    R("api.create_view", "POST", "/api/views", api(201), json={"name": "Robot work", "filters": {"assignee": "me"}}),
    R("api.get_view", "GET", API_VIEW, api(200)),
    R("api.update_view", "PATCH", API_VIEW, api(200), json={"name": "Renamed"}),  # the robot's own
    R("api.delete_view", "DELETE", API_VIEW, api(204)),
    R("api.view_tickets", "GET", API_VIEW + "/tickets", api(200)),
    R("api.list_watchers", "GET", API_TICKET + "/watchers", api(200)),
    R("api.add_attachments", "POST", API_TICKET + "/attachments", api(201), files={"file": ("alert.json", b'{"a": 1}')}),
    R("api.list_attachments", "GET", API_TICKET + "/attachments", api(200)),
    R("api.get_attachment", "GET", API_TICKET + "/attachments/{robot_attachment}", api(200)),
    R("api.download_attachment", "GET", API_TICKET + "/attachments/{robot_attachment}/content", api(200)),
    R("api.remove_attachment", "DELETE", API_TICKET + "/attachments/{robot_attachment}", api(204)),
    R("api.watch_ticket", "POST", API_TICKET + "/watchers", api(201), json={"user": "robot"}),  # itself
    R("api.unwatch_ticket", "DELETE", API_TICKET + "/watchers", api(204)),
    R("api.list_links", "GET", API_TICKET + "/links", api(200)),
    R("api.add_link", "POST", API_TICKET + "/links", api(201), json={"kind": "child_of", "ticket": "{spare_ticket}"}),
    R("api.remove_link", "DELETE", API_TICKET + "/links/{link}", api(204)),
    R("api.list_notifications", "GET", "/api/notifications", api(200)),
    R("api.read_notifications", "POST", "/api/notifications/read", api(200), json={"all": True}),
]


class World:
    """Real objects for every placeholder, and the people and keys the six callers stand for."""

    def __init__(self, make):
        from webapp.models import AuditEvent, Notification, Role, WebhookDelivery
        from webapp.services.mail_message import unsubscribe_token
        from webapp.services import bulk, bulk_jobs, webhooks
        from webapp.services.comments import add_comment
        from webapp.services.links import add_link
        from webapp.services.saved_views import create_view
        from webapp.services.users import rotate_api_key

        admin = make.user("admin", role=Role.ADMIN)
        agent, target, gone = make.user("agent"), make.user("target"), make.user("gone")
        robot = make.user("robot", role=Role.SERVICE)
        category, cti_type, item = make.cti("Infra", "Servers", "Web")
        ticket = make.ticket(actor=agent, cti=(category, cti_type, item))
        linked, spare = (make.ticket(actor=agent, cti=(category, cti_type, item)) for _ in range(2))
        hook = webhooks.create_webhook(admin, name="hook", url="https://n8n.example.com/webhook/y",
                                       secret="s" * 24, active=False)  # inactive: nothing is ever sent
        event = db.session.scalars(db.select(AuditEvent).filter_by(ticket_id=ticket.id)).first()
        delivery = WebhookDelivery(webhook=hook, audit_event=event, status="FAILED", attempts=3)
        db.session.add(delivery)
        db.session.commit()
        severity = bulk.clean_changes({"severity": 4})
        jobs = {owner: bulk_jobs.start_job(owner, severity, targets=[bulk.Target(ticket.display_id)], enqueue=False).id
                for owner in (agent, robot)}
        self.people = {"admin": admin.id, "gone": gone.id}
        self.keys = {SERVICE: robot.plain_api_key, WRONG_KEY: "sk_" + "x" * 43,
                     DEACTIVATED: rotate_api_key(None, gone)}
        self.ids = {
            "ticket": ticket.display_id, "category": category.id, "type": cti_type.id, "item": item.id,
            "other_item": make.cti("Infra", "Servers", "Db")[2].id,
            "spare_item": make.cti("Infra", "Servers", "Spare")[2].id,
            "comment": add_comment(agent, ticket, "agent note").id,
            "admin_comment": add_comment(admin, ticket, "admin note").id,
            "robot_comment": add_comment(robot, ticket, "robot note").id,
            "link": add_link(agent, ticket, "relates_to", linked.display_id).id, "spare_ticket": spare.display_id,
            "target": target.id, "robot": robot.id, "webhook": hook.id, "delivery": delivery.id,
            "bulk_job": jobs[agent], "robot_bulk_job": jobs[robot],
            "shared_view": create_view(agent, name="Agent's shared", filters={"severity": "2"}, shared=True).id,
            "robot_view": create_view(robot, name="Robot's own", filters={"assignee": "me"}).id,
            # the admin commented after the agent, so watches: the robot's comment told them of it
            "notification": db.session.scalar(db.select(Notification.id).filter_by(recipient_id=admin.id)),
            "unsubscribe": unsubscribe_token(admin.id, "assigned"),
            **self._attachments(ticket, agent, robot),
        }

    @staticmethod
    def _attachments(ticket, agent, robot) -> dict:
        """An agent's file, a robot's file and a removed file on the ticket."""
        from webapp.services.attachment_files import Upload
        from webapp.services.attachments import add_attachments, remove_attachment

        def upload(actor, name):
            return add_attachments(actor, ticket, [Upload(name, "text/plain", io.BytesIO(b"booting\n"))])[0]

        removed = upload(agent, "old.log")
        remove_attachment(agent, ticket, removed)
        return {"attachment": upload(agent, "boot.log").id, "robot_attachment": upload(robot, "robot.log").id,
                "removed_attachment": removed.id}

    def become(self, client, caller: str) -> dict:
        """Sign a fresh `client` in as `caller` (or not); return the headers its requests carry."""
        from webapp.models import User
        from webapp.services.users import set_active

        name = {AGENT: "agent", ADMIN: "admin", DEACTIVATED: "gone"}.get(caller)
        if name:
            assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 303
        if caller == DEACTIVATED:  # signed in and holding a key, then deactivated by an admin
            people = {name: db.session.get(User, ident) for name, ident in self.people.items()}
            set_active(people["admin"], people["gone"], False)
        return {"X-Api-Key": self.keys[caller]} if caller in self.keys else {}

    def fill(self, value):
        """`value` with its placeholders filled in, inside lists and objects too."""
        if isinstance(value, str):
            return value.format(**self.ids)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value

    def send(self, client, route: Route, headers=None, **kwargs):
        """Make the row's request, placeholders filled in."""
        body = {"json": self.fill(route.json)} if route.json is not None else {}
        if route.form or route.files:
            body["data"] = {**self.fill(route.form),
                            **{name: (io.BytesIO(content), filename) for name, (filename, content) in route.files.items()}}
        return client.open(self.fill(route.path), method=route.method, headers=headers or {}, **body, **kwargs)


def new_client(app):
    """A client of its own (own cookies) that sends valid CSRF tokens unless told not to."""
    from ..conftest import CsrfClient

    return CsrfClient(app, app.response_class, use_cookies=True)


@contextmanager
def rolled_back():
    """Undo everything done inside, so one world serves many callers.

    The test harness binds the session to a connection inside an outer transaction; a savepoint on
    that connection holds the session's own savepoints, and rolling it back discards them all.
    """
    db.session.close()
    savepoint = db.session.get_bind().begin_nested()
    try:
        yield
    finally:
        db.session.close()
        savepoint.rollback()


def outcome_error(response, expected) -> str | None:
    """Why the response is not the outcome the table declares (in the shape that caller should see)."""
    status, location = response.status_code, response.headers.get("Location", "")
    if isinstance(expected, Redirect):
        if status != 302 or not (location.startswith(expected.to) if expected.prefix else location == expected.to):
            return f"expected a 302 to {expected.to}, got {status} {location}"
        return None
    if status != expected:
        return f"expected {expected}, got {status} {location} {response.data[:200]!r}"
    if expected == 401 and (response.get_json()["error"]["code"] != "unauthorized"
                            or not response.headers["WWW-Authenticate"].startswith("ApiKey")):
        return "a 401 without the API's error body and WWW-Authenticate"
    if expected == 403 and not (b"Not allowed" in response.data and b"<html" in response.data):
        return "a 403 without the 'Not allowed' page"
    return None


def snapshot() -> dict:
    """Every row of every table: a refused request must leave all of them as they were."""
    return {table.name: sorted(map(tuple, db.session.execute(db.select(table))), key=repr)
            for table in db.metadata.sorted_tables}
