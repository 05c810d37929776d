"""Filing a ticket: the form, cascading Category -> Type -> Item selects, errors, markdown preview."""
import re

from webapp.extensions import db
from webapp.models import AuditEvent, Ticket

from .conftest import PARTIAL


def form_for(cti, **overrides):
    cat, typ, itm = cti
    data = {"title": "Printer on fire", "overview": "Smoke from **tray 2**", "severity": "2",
            "category_id": cat.id, "type_id": typ.id, "item_id": itm.id, "assignee_id": ""}
    data.update(overrides)
    return data


def test_new_ticket_form_has_every_field_labelled(client, agent, make):
    make.cti("Infra", "Servers", "web01")
    html = client.get("/tickets/new").get_data(as_text=True)
    for control in ("title", "overview", "category", "type", "item", "assignee"):
        assert f'<label for="{control}">' in html
    assert "<legend>Severity</legend>" in html
    assert html.count('type="radio" name="severity"') == 5
    assert re.search(r'value="3" checked', html)
    assert 'id="type" name="type_id"  disabled' in html and 'id="item" name="item_id"  disabled' in html


def test_category_select_swaps_in_the_types_of_that_category(client, agent, make):
    cat, servers, _ = make.cti("Infra", "Servers", "web01")
    _, network, _ = make.cti("Infra", "Network", "vpn")
    make.cti("Office", "Printers", "3rd floor")
    make.cti("Infra", "Retired", "old", active=True)[1].active = False
    db.session.commit()
    html = client.get("/tickets/new").get_data(as_text=True)
    assert 'hx-get="/cti/types?prefix=" hx-target="#cti-rest" hx-swap="outerHTML"' in html
    response = client.get(f"/cti/types?category_id={cat.id}&prefix=", headers=PARTIAL)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<div id="cti-rest"')
    assert re.findall(r'<option value="(\d+)"', fragment) == [str(network.id), str(servers.id)]
    assert 'id="item" name="item_id"  disabled' in fragment


def test_type_select_swaps_in_the_items_of_that_type(client, agent, make):
    cat, typ, web01 = make.cti("Infra", "Servers", "web01")
    _, _, web02 = make.cti("Infra", "Servers", "web02")
    make.cti("Infra", "Servers", "web03", active=False)
    response = client.get(f"/cti/items?category_id={cat.id}&type_id={typ.id}&prefix=reroute-", headers=PARTIAL)
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="field" id="reroute-item-field"')
    assert re.findall(r'<option value="(\d+)"', fragment) == [str(web01.id), str(web02.id)]


def test_items_of_a_type_outside_the_category_are_not_offered(client, agent, make):
    cat, _, _ = make.cti("Infra", "Servers", "web01")
    _, foreign, _ = make.cti("Office", "Printers", "3rd floor")
    fragment = client.get(f"/cti/items?category_id={cat.id}&type_id={foreign.id}").get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)"', fragment) == []


def test_creating_a_ticket_redirects_to_it_and_audits(client, agent, make):
    cti = make.cti("Infra", "Servers", "web01")
    bob = make.user("bob")
    response = client.post("/tickets/new", data=form_for(cti, assignee_id=bob.id))
    ticket = db.session.scalar(db.select(Ticket).filter_by(title="Printer on fire"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tickets/{ticket.display_id}"
    assert (ticket.severity, ticket.item_id, ticket.assignee_id, ticket.creator_id) == (2, cti[2].id, bob.id, agent.id)
    assert ticket.overview == "Smoke from **tray 2**"
    assert db.session.scalar(db.select(AuditEvent).filter_by(ticket_id=ticket.id, action="create"))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Ticket {ticket.display_id} created." in page


def test_errors_show_beside_their_fields_and_keep_what_was_typed(client, agent, make):
    cat, typ, itm = make.cti("Infra", "Servers", "web01")
    data = form_for((cat, typ, itm), title="   ", item_id="", overview="Keep **this** text", severity="2")
    response = client.post("/tickets/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="title-error" role="alert">Give the ticket a title.</p>' in html
    assert '<p class="field-error" id="item-error" role="alert">Choose an item.</p>' in html
    assert 'id="title" name="title" value="   "' in html
    assert ">Keep **this** text</textarea>" in html
    assert re.search(r'value="2" checked', html)
    assert f'<option value="{cat.id}" selected>Infra</option>' in html
    assert f'<option value="{typ.id}" selected>Servers</option>' in html
    assert 'aria-invalid="true" aria-describedby="item-error"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 0


def test_inactive_item_is_refused_beside_the_item(client, agent, make):
    cti = make.cti("Infra", "Servers", "web01", active=False)
    html = client.post("/tickets/new", data=form_for(cti)).get_data(as_text=True)
    assert "is inactive and cannot take new tickets" in html
    assert 'id="item-error"' in html


def test_bad_severity_and_assignee_are_explained(client, agent, make):
    cti = make.cti()
    html = client.post("/tickets/new", data=form_for(cti, severity="9", assignee_id="999999")).get_data(as_text=True)
    assert 'id="severity-error"' in html and "from 1 (critical) to 5 (minimal)" in html
    assert 'id="assignee-error"' in html and "Unknown user id" in html


def test_ids_no_column_can_hold_are_refused_not_crashed_on(client, agent, make):
    response = client.post("/tickets/new", data=form_for(make.cti(), category_id="9" * 20, assignee_id="9" * 20))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="category-error"' in html and 'id="assignee-error"' in html


def test_creating_without_a_csrf_token_is_refused(client, agent, make):
    response = client.post("/tickets/new", data=form_for(make.cti()), csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 0


def test_preview_renders_markdown_on_the_server(client, agent):
    response = client.post("/preview?field=body", data={"body": "| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>x()</script>"},
                           headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<table>" in html and "<td>1</td>" in html
    assert "<script>" not in html


def test_preview_reads_the_named_field(client, agent):
    html = client.post("/preview?field=overview", data={"overview": "~~gone~~", "title": "x"}).get_data(as_text=True)
    assert "<del>gone</del>" in html


def test_empty_preview_says_so(client, agent):
    assert "Nothing to preview yet." in client.post("/preview?field=body", data={"body": "  "}).get_data(as_text=True)


def test_preview_needs_csrf_and_a_session(client, make):
    assert client.post("/preview", data={"body": "x"}).status_code == 302
    make.user("agent")
    client.post("/login", data={"username": "agent", "password": "correct horse battery"})
    assert client.post("/preview", data={"body": "x"}, csrf=False).status_code == 400


def test_editors_offer_write_and_preview(client, agent, make):
    html = client.get("/tickets/new").get_data(as_text=True)
    assert 'data-md-tab="write"' in html
    assert 'hx-post="/preview?field=overview" hx-target="#overview-preview"' in html
