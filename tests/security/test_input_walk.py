"""No input answers 500. Every field of every form the pages render, and every field of every JSON
body the API documents, is sent a NUL, a control character, "²" and a value longer than any column:
nothing answers 5xx, and text the rule refuses (webapp/services/text.py) or that is too long gets a
422 naming the field; a form comes back with the field marked and the text as typed."""
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from .route_table import ADMIN, ANONYMOUS, ROUTES, SERVICE, TICKET, UNSAFE, World, new_client, rolled_back

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
TYPED = {"text", "password", "url", "search", "email", "textarea"}  # what a person types, as opposed to picks
UNLIMITED = {"password"}  # typed fields with no length limit: only a hash is stored
OVERSIZE = "x" * 100_001  # longer than any column or text limit, well under MAX_CONTENT_LENGTH
# the title editor, which no route_table row opens, and the admin's own comment's editor
EXTRA_PAGES = [TICKET + "/title/edit", TICKET + "/comments/{admin_comment}/edit"]
PAGE_BLUEPRINTS = {"auth", "web", "admin", "webhooks"}  # the ones that render pages with forms
NOT_IN_A_FORM = {"web.preview"}  # posted by the editors' Preview tab, not by a <form>: its row's body is used


def typed(seed: str, marker: str) -> str:
    return f"{seed or 'Some text'} with {marker} inside"


# (name, value for a typed field, value for a picked one, whether a typed field must be refused)
VARIANTS = [
    ("NUL", lambda v: typed(v, "a \x00 NUL"), lambda v: f"{v}\x00", True),
    ("escape", lambda v: typed(v, "an \x1b[31m escape"), lambda v: f"{v}\x1b", True),
    ("superscript two", lambda v: "²", lambda v: "²", False),
    ("oversize", lambda v: OVERSIZE, lambda v: OVERSIZE, True),
]


@dataclass
class Field:
    name: str
    kind: str
    value: str
    sent: bool  # a browser sends it as the page stands (an unchecked box is not sent)
    attrs: dict = field(default_factory=dict)


@dataclass
class Form:
    action: str
    method: str = "post"
    fields: list = field(default_factory=list)

    def data(self, name, value, valid: dict) -> dict:
        """What a browser would post, with `valid` values typed in and `name` set to `value`."""
        data = {f.name: f.value for f in self.fields if f.sent and f.name != "csrf_token"}  # the client sends its own
        data.update({key: text for key, text in valid.items() if any(f.name == key for f in self.fields)})
        data[name] = value
        return data


class Forms(HTMLParser):
    """The forms in a page (POST ones and GET ones such as the queue filters), with every named
    input, textarea, select and button."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url, self.forms, self.fields = page_url, [], []
        self._form = self._text = self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = Form(attrs.get("action") or self.page_url, (attrs.get("method") or "get").lower())
            self.forms.append(self._form)
        elif tag == "input" and attrs.get("name"):
            kind = (attrs.get("type") or "text").lower()
            default = "on" if kind in ("checkbox", "radio") else ""
            sent = kind not in ("checkbox", "radio") or "checked" in attrs
            self._add(Field(attrs["name"], kind, attrs.get("value") or default, sent, attrs))
        elif tag == "button" and attrs.get("name"):  # sent only by the button pressed
            self._add(Field(attrs["name"], "button", attrs.get("value") or "", False, attrs))
        elif tag == "textarea" and attrs.get("name"):
            self._text = self._add(Field(attrs["name"], "textarea", "", True, attrs))
        elif tag == "select" and attrs.get("name"):
            self._select = self._add(Field(attrs["name"], "select", "", True, attrs))
            self._select.attrs["options"] = []
        elif tag == "option" and self._select is not None:
            self._select.attrs["options"].append(attrs.get("value", ""))
            if "selected" in attrs or len(self._select.attrs["options"]) == 1:
                self._select.value = attrs.get("value", "")

    def handle_data(self, data):
        if self._text is not None:
            self._text.value += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._text is not None:
            self._text.value = self._text.value.removeprefix("\n")  # as a browser reads it
            self._text = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None

    def _add(self, found: Field) -> Field:
        self.fields.append(found)
        if self._form is not None:
            self._form.fields.append(found)
        return found


def parse(html: bytes, page_url: str) -> Forms:
    parser = Forms(page_url)
    parser.feed(html.decode())
    return parser


def endpoint(app, url: str, method: str = "post") -> str:
    return app.url_map.bind("localhost").match(urlsplit(url).path, method=method.upper())[0]


def harvest(app, world: World) -> dict:
    """caller -> {(method, action, field names): Form} for every form with fields a caller's pages show."""
    found = {ANONYMOUS: {}, ADMIN: {}}
    clients = {ANONYMOUS: new_client(app), ADMIN: new_client(app)}
    world.become(clients[ADMIN], ADMIN)
    pages = [(ADMIN, r.path) for r in ROUTES if r.method == "GET" and r.expect[ADMIN] == 200
             and r.endpoint.split(".")[0] in PAGE_BLUEPRINTS]
    pages += [(ANONYMOUS, "/login")] + [(ADMIN, path) for path in EXTRA_PAGES]
    for caller, path in pages:
        url = path.format(**world.ids)
        response = clients[caller].get(url)
        assert response.status_code == 200, url
        for form in parse(response.data, url).forms:
            names = tuple(sorted({f.name for f in form.fields} - {"csrf_token"}))
            if names:
                found[caller].setdefault((form.method, form.action, names), form)
    return found


def refusal_error(response, fld: Field, value: str, login: bool) -> str | None:
    """Why a refused form's answer does not show the field marked with the text as typed."""
    if response.status_code != 422:
        return f"expected 422, got {response.status_code}"
    shown = [f for f in parse(response.data, "").fields if f.name == fld.name]
    marked = any(f.attrs.get("aria-invalid") == "true" for f in shown)
    if not marked and not (login and b"do not match" in response.data):  # sign-in never says which is wrong
        return "the field is not marked invalid"
    if fld.kind != "password" and not any(f.value == value for f in shown):
        return "the text typed is not in the form any more"
    return None


def valid_values(name: str, world: World) -> dict:
    """The route_table row's body for this endpoint: values that pass, so only the field tried is wrong."""
    row = next((r for r in ROUTES if r.endpoint == name and r.form), None)
    return {key: value.format(**world.ids) for key, value in (row.form if row else {}).items()}


def form_errors(app, world, caller, form: Form, variants) -> dict:
    """Post each variant into each field of `form`; what went wrong, by (field, variant)."""
    client = new_client(app)
    world.become(client, caller)
    login = endpoint(app, form.action, form.method) == "auth.login"
    valid = valid_values(endpoint(app, form.action, form.method), world)
    wrong = {}
    by_name = {f.name: f for f in reversed(form.fields)}  # a radio group or a row of boxes: tried once
    for fld in (by_name[name] for name in dict.fromkeys(f.name for f in form.fields)):
        if fld.name == "csrf_token":
            continue
        for name, for_typed, for_picked, refused in variants:
            is_typed = fld.kind in TYPED and "hidden" not in fld.attrs
            value = (for_typed if is_typed else for_picked)(fld.value)
            must_refuse = (is_typed and refused and form.method == "post"  # a GET form only filters: no 5xx is enough
                           and not (name == "oversize" and fld.name in UNLIMITED and not login))
            for headers in ({}, HTMX) if name == "NUL" else ({},):
                data = form.data(fld.name, value, valid)
                with rolled_back():
                    if form.method == "get":
                        response = client.get(form.action, query_string=data, headers=headers)
                    else:
                        response = client.post(form.action, data=data, headers=headers)
                if response.status_code >= 500:
                    wrong[fld.name, name, bool(headers)] = f"{response.status_code}"
                elif must_refuse and (why := refusal_error(response, fld, value, login)):
                    wrong[fld.name, name, bool(headers)] = why
    return wrong


@pytest.fixture
def world(app, make):
    return World(make)


@pytest.fixture
def forms(app, world):
    return harvest(app, world)


def test_the_walk_reaches_every_route_that_takes_form_input(app, forms):
    """Each state-changing page route with a body in route_table.py is posted to by some form found
    on the pages (or, for NOT_IN_A_FORM, by its row)."""
    reached = {endpoint(app, action) for by_caller in forms.values() for method, action, _ in by_caller
               if method == "post"}
    takes_input = {r.endpoint for r in ROUTES if r.method in UNSAFE and r.form and not r.path.startswith("/api/")}
    assert takes_input - reached == NOT_IN_A_FORM


@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_no_form_field_answers_5xx_and_refused_text_comes_back_marked(app, world, forms, variant):
    rows = [Form(r.path.format(**world.ids), fields=[Field(k, "row", v.format(**world.ids), True)
                                                      for k, v in r.form.items()])
            for r in ROUTES if r.endpoint in NOT_IN_A_FORM]  # nothing stored: only "no 5xx" is asked of them
    wrong = {}
    for caller, by_key in forms.items():
        for form in [*by_key.values(), *(rows if caller == ADMIN else [])]:
            for where, why in form_errors(app, world, caller, form, [variant]).items():
                wrong[form.action, *where] = why
    assert not wrong, wrong


def api_bodies(app) -> list:
    """(route row, the schema's property names) for every API operation with a JSON body."""
    spec = new_client(app).get("/api/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    operations = {op["operationId"]: op for ops in spec["paths"].values() for op in ops.values()}
    by_endpoint = {"api.create_ticket": "createTicket", "api.update_ticket": "updateTicket",
                   "api.add_comment": "addComment", "api.create_view": "createView", "api.update_view": "updateView",
                   "api.bulk_tickets": "bulkUpdateTickets", "api.edit_comment": "editComment",
                   "api.watch_ticket": "watchTicket", "api.read_notifications": "readNotifications",
                   "api.add_link": "addLink"}  # endpoint -> operationId
    rows = [r for r in ROUTES if r.json is not None]
    assert {r.endpoint for r in rows} == set(by_endpoint)
    found = []
    for row in rows:
        ref = operations[by_endpoint[row.endpoint]]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        found.append((row, list(schemas[ref.rsplit("/", 1)[1]]["properties"])))
    return found


TOGETHER = {"categoryId": "{category}", "typeId": "{type}", "itemId": "{item}"}  # a reroute names all three
API_VARIANTS = [
    ("NUL", "bad\x00text", True),
    ("escape", "bad\x1btext", True),
    ("half a surrogate pair", "bad\ud800text", True),
    ("superscript two", "²", False),
    ("oversize", OVERSIZE, True),
]


def test_no_api_body_field_answers_5xx_and_refused_text_is_named(app, world):
    app.extensions["rate_limiter"].reset()
    client, key = new_client(app), {"X-Api-Key": world.keys[SERVICE]}
    wrong = {}
    for row, properties in api_bodies(app):
        base = {name: value.format(**world.ids) if isinstance(value, str) else value
                for name, value in row.json.items()}
        path = row.path.format(**world.ids)
        route = {name: value.format(**world.ids) for name, value in TOGETHER.items()}
        cases = [(prop, name, {**base, **(route if prop in TOGETHER else {}), prop: value}, refused)
                 for prop in properties for name, value, refused in API_VARIANTS]
        cases.append(("\ud800", "unknown field with half a surrogate pair", {**base, "\ud800": 1}, True))
        for prop, name, body, refused in cases:
            with rolled_back():
                response = client.open(path, method=row.method, data=json.dumps(body), headers=key,
                                       content_type="application/json", csrf=False)
            fields = (response.get_json(silent=True) or {}).get("error", {}).get("fields", {})
            if response.status_code >= 500:
                wrong[row.endpoint, prop, name] = response.status_code
            elif refused and (response.status_code != 422 or not fields):
                wrong[row.endpoint, prop, name] = f"{response.status_code} {fields}"
            elif refused and prop != "\ud800" and prop not in fields:
                wrong[row.endpoint, prop, name] = f"does not name {prop}: {fields}"
    assert not wrong, wrong


def test_a_session_user_id_in_other_digits_names_nobody(app):
    """Flask-Login hands the loader the id the session holds; "²" passes str.isdigit but is no id."""
    from webapp.auth.routes import load_user

    assert load_user("²") is None and load_user("1\x00") is None and load_user("99999999999") is None
