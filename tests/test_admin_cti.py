"""The CTI tree: add at any level, rename inline, deactivate instead of deleting what tickets use."""
import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Category, CtiType, Item, Role
from webapp.services import Conflict, ValidationError, cti_admin
from webapp.services.cti import active_items, active_types, resolve_cti
from webapp.services.tickets import reroute

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "section#cti-tree"}


@pytest.fixture
def boss(make, auth):
    user = make.user("boss", role=Role.ADMIN)
    auth.login("boss")
    return user


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


def names(model) -> list[str]:
    return sorted(db.session.scalars(db.select(model.name)))


def test_tree_page_shows_every_level_including_inactive(client, boss, make):
    make.cti("Infra", "Servers", "Web")
    make.cti("Infra", "Servers", "Old box", active=False)
    make.cti("Office", "Heating", "Boiler")
    page = client.get("/admin/cti").get_data(as_text=True)
    for name in ("Infra", "Servers", "Web", "Old box", "Office", "Heating", "Boiler"):
        assert f">{name}<" in page
    assert "Inactive" in page
    assert page.index(">Infra<") < page.index(">Office<")


def test_tree_page_loads_in_a_fixed_number_of_queries(client, boss, make, app):
    from sqlalchemy import event

    for n in range(6):
        make.cti(f"Cat {n}", f"Type {n}", f"Item {n}")
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/admin/cti")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 7  # session user + categories + types + items + the bell, not one per row


@pytest.mark.parametrize("level", ["category", "type", "item"])
def test_add_at_every_level(client, boss, make, level):
    cat, typ, _ = make.cti("Infra", "Servers", "Web")
    parent = {"category": "", "type": cat.id, "item": typ.id}[level]
    response = client.post(f"/admin/cti/{level}", data={"name": "  Brand   New ", "parent_id": parent})
    assert response.status_code == 303
    model = cti_admin.LEVELS[level].model
    entry = db.session.scalar(db.select(model).filter_by(name="Brand New"))
    assert entry is not None and entry.active
    assert response.headers["Location"] == f"/admin/cti#{level}-{entry.id}"
    [event] = events("cti_add")
    assert (event.target_type, event.target_id) == (level, entry.id)
    assert event.after["name"] == "Brand New"


def test_add_via_htmx_returns_the_tree_with_the_new_entry(client, boss, make):
    cat, typ, _ = make.cti("Infra", "Servers", "Web")
    response = client.post("/admin/cti/item", data={"name": "Mail", "parent_id": typ.id}, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="cti-tree"') and "<html" not in page
    assert ">Mail<" in page and "Added." in page
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("duplicate", ["Web", "web", " WEB "])
def test_sibling_names_are_unique_ignoring_case(client, boss, make, duplicate):
    _, typ, _ = make.cti("Infra", "Servers", "Web")
    response = client.post("/admin/cti/item", data={"name": duplicate, "parent_id": typ.id}, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is an item called “Web” in this type" in page
    assert f'value="{duplicate}"' in page  # what was typed stays in the box
    assert names(Item) == ["Web"] and events("cti_add") == []


def test_same_name_is_fine_under_another_parent(make):
    make.cti("Infra", "Servers", "Web")
    _, other_type, _ = make.cti("Infra", "Desktops", "Laptop")
    item = cti_admin.add_entry(None, "item", "Web", other_type.id)
    assert item.type_id == other_type.id
    with pytest.raises(ValidationError, match="There is a type called “Servers”"):
        cti_admin.add_entry(None, "type", "servers", other_type.category_id)
    with pytest.raises(ValidationError, match="There is a category called “Infra” already"):
        cti_admin.add_entry(None, "category", "INFRA")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 81])
def test_empty_or_overlong_names_are_refused(client, boss, make, bad):
    before = names(Category)
    response = client.post("/admin/cti/category", data={"name": bad}, headers=HTMX)
    assert response.status_code == 422
    assert b"Give it a name." in response.data or b"Keep names under 80" in response.data
    assert names(Category) == before


@pytest.mark.parametrize("parent_id", ["999999", "9" * 25, "abc", ""])
def test_adding_under_a_missing_parent_is_refused(client, boss, parent_id):
    response = client.post("/admin/cti/item", data={"name": "Orphan", "parent_id": parent_id}, headers=HTMX)
    assert response.status_code == 422 and b"Choose an existing type." in response.data
    assert names(Item) == []


def test_click_to_edit_returns_the_inline_form(client, boss, make):
    _, _, item = make.cti("Infra", "Servers", "Web")
    response = client.get(f"/admin/cti/item/{item.id}/edit", headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert 'class="cti-name inline-edit"' in page and 'value="Web"' in page and "autofocus" in page
    assert f'hx-get="/admin/cti/item/{item.id}/name"' in page  # what Escape (and Cancel) load


def test_without_htmx_edit_opens_the_page_in_edit_mode(client, boss, make):
    _, _, item = make.cti("Infra", "Servers", "Web")
    page = client.get(f"/admin/cti/item/{item.id}/edit").get_data(as_text=True)
    assert "<html" in page and f'id="rename-item-{item.id}"' in page


def test_cancel_returns_the_plain_name(client, boss, make):
    _, _, item = make.cti("Infra", "Servers", "Web")
    response = client.get(f"/admin/cti/item/{item.id}/name", headers=HTMX)
    assert response.status_code == 200
    assert 'class="cti-name"' in response.get_data(as_text=True) and "inline-edit" not in response.get_data(as_text=True)


@pytest.mark.parametrize("level", ["category", "type", "item"])
def test_rename_inline_at_every_level(client, boss, make, level):
    chain = dict(zip(("category", "type", "item"), make.cti("Infra", "Servers", "Web")))
    entry = chain[level]
    old_path = cti_admin.path_of(level, entry)
    response = client.post(f"/admin/cti/{level}/{entry.id}/name", data={"name": "Renamed"}, headers=HTMX)
    assert response.status_code == 200
    assert ">Renamed<" in response.get_data(as_text=True) and "inline-edit" not in response.get_data(as_text=True)
    assert entry.name == "Renamed"
    [event] = events("cti_rename")
    assert (event.target_type, event.target_id) == (level, entry.id)
    assert event.before == {"name": {"category": "Infra", "type": "Servers", "item": "Web"}[level], "path": old_path}
    assert event.after["name"] == "Renamed"


def test_rename_to_a_siblings_name_shows_the_error_inline(client, boss, make):
    make.cti("Infra", "Servers", "Web")
    _, _, mail = make.cti("Infra", "Servers", "Mail")
    response = client.post(f"/admin/cti/item/{mail.id}/name", data={"name": "WEB"}, headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "inline-edit" in page and 'value="WEB"' in page and "There is an item called “Web”" in page
    db.session.refresh(mail)
    assert mail.name == "Mail" and events("cti_rename") == []


def test_rename_changing_only_case_is_allowed(make):
    _, _, item = make.cti("Infra", "Servers", "web")
    cti_admin.rename_entry(None, "item", item.id, "Web")
    assert item.name == "Web"


def test_rename_to_the_same_name_writes_nothing(make):
    _, _, item = make.cti("Infra", "Servers", "Web")
    cti_admin.rename_entry(None, "item", item.id, " Web ")
    assert events("cti_rename") == []


def test_rename_shows_on_existing_tickets(client, boss, make):
    chain = make.cti("Infra", "Servers", "Web")
    ticket = make.ticket(cti=chain)
    client.post(f"/admin/cti/item/{chain[2].id}/name", data={"name": "Web front"})
    db.session.refresh(ticket)
    assert ticket.cti_path == "Infra › Servers › Web front"


def test_deactivated_entries_are_not_offered_but_stay_on_old_tickets(client, boss, make):
    cat, typ, item = make.cti("Infra", "Servers", "Web")
    _, _, spare = make.cti("Infra", "Servers", "Spare")
    ticket = make.ticket(cti=(cat, typ, spare))
    response = client.post(f"/admin/cti/item/{item.id}/deactivate", headers=HTMX)
    assert response.status_code == 200 and "no longer offered for new tickets" in response.get_data(as_text=True)
    assert [i.name for i in active_items(typ.id)] == ["Spare"]
    with pytest.raises(ValidationError, match="inactive"):
        resolve_cti(cat.id, typ.id, item.id)
    with pytest.raises(ValidationError, match="inactive"):
        reroute(boss, ticket, cat.id, typ.id, item.id)
    client.post(f"/admin/cti/item/{spare.id}/deactivate")
    db.session.refresh(ticket)
    assert ticket.item_id == spare.id and ticket.cti_path == "Infra › Servers › Spare"
    assert [e.target_id for e in events("cti_deactivate")] == [item.id, spare.id]


def test_deactivating_a_type_hides_it_and_marks_its_items(client, boss, make):
    cat, typ, _ = make.cti("Infra", "Servers", "Web")
    client.post(f"/admin/cti/type/{typ.id}/deactivate")
    assert active_types(cat.id) == []
    assert "Hidden by “Servers”" in client.get("/admin/cti").get_data(as_text=True)


def test_reactivate_offers_it_again(client, boss, make):
    _, typ, item = make.cti("Infra", "Servers", "Web", active=False)
    assert client.post(f"/admin/cti/item/{item.id}/reactivate").status_code == 303
    assert [i.name for i in active_items(typ.id)] == ["Web"]
    [event] = events("cti_reactivate")
    assert event.before["active"] is False and event.after["active"] is True


def test_delete_an_unused_item(client, boss, make):
    _, typ, item = make.cti("Infra", "Servers", "Web")
    response = client.post(f"/admin/cti/item/{item.id}/delete", headers=HTMX)
    assert response.status_code == 200 and "Deleted item “Web”." in response.get_data(as_text=True)
    assert db.session.get(Item, item.id) is None
    [event] = events("cti_delete")
    assert event.before == {"name": "Web", "path": "Infra › Servers › Web"}


def test_delete_an_unused_category_takes_its_subtree(client, boss, make):
    cat, _, _ = make.cti("Infra", "Servers", "Web")
    make.cti("Infra", "Servers", "Mail")
    make.cti("Infra", "Desktops", "Laptop")
    make.cti("Office", "Heating", "Boiler")
    assert client.post(f"/admin/cti/category/{cat.id}/delete").status_code == 303
    assert names(Category) == ["Office"] and names(CtiType) == ["Heating"] and names(Item) == ["Boiler"]
    [event] = events("cti_delete")
    assert sorted(event.before["types"]) == ["Desktops", "Servers"]
    assert sorted(event.before["items"]) == ["Laptop", "Mail", "Web"]


@pytest.mark.parametrize("level", ["category", "type", "item"])
def test_used_entries_cannot_be_deleted_and_the_page_says_why(client, boss, make, level):
    chain = dict(zip(("category", "type", "item"), make.cti("Infra", "Servers", "Web")))
    make.ticket(cti=tuple(chain.values()))
    make.ticket(cti=tuple(chain.values()))
    entry = chain[level]
    response = client.post(f"/admin/cti/{level}/{entry.id}/delete", headers=HTMX)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert f"“{entry.name}” is used by 2 tickets, so it cannot be deleted." in page
    assert "Deactivate instead" in page
    assert names(Category) == ["Infra"] and names(Item) == ["Web"]
    assert events("cti_delete") == []


def test_used_entry_delete_without_htmx_renders_the_page_with_the_reason(client, boss, make):
    chain = make.cti("Infra", "Servers", "Web")
    make.ticket(cti=chain)
    response = client.post(f"/admin/cti/item/{chain[2].id}/delete")
    assert response.status_code == 409 and b"<html" in response.data and b"is used by 1 ticket" in response.data


def test_service_refuses_deleting_a_used_entry(make):
    chain = make.cti("Infra", "Servers", "Web")
    make.ticket(cti=chain)
    with pytest.raises(Conflict, match="Deactivate it instead"):
        cti_admin.delete_entry(None, "type", chain[1].id)


def test_unknown_entry_is_a_404(client, boss):
    assert client.post("/admin/cti/item/999999/deactivate").status_code == 404
    assert client.post(f"/admin/cti/item/{'9' * 25}/delete").status_code == 404
    assert client.get("/admin/cti/type/999999/edit").status_code == 404
