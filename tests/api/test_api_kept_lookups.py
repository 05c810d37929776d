"""Each process keeps the caller behind a key and a new ticket's CTI chain instead of reading them on
every API call; a change made here or by any other process takes effect on the next call, and what
is kept never leaks between sessions."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Item, User
from webapp.services import recent
from webapp.services.cti_admin import set_entry_active
from webapp.services.users import set_active

from ..conftest import written_elsewhere
from ..web.test_queries import recorded_queries


@pytest.fixture(autouse=True)
def _nothing_kept(app):
    recent.forget_all(app)


def create_body(n8n_body) -> dict:
    return {key: value for key, value in n8n_body.items() if key != "assigneeId"}


def statements_of(call) -> list[str]:
    with recorded_queries() as statements:
        response = call()
    assert response.status_code < 300, response.get_data(as_text=True)
    return [text for text, _ in statements]


def test_a_second_create_reads_neither_the_key_nor_the_cti_chain(api, n8n_body):
    body = create_body(n8n_body)
    first = statements_of(lambda: api.post("/api/tickets", json=body))
    second = statements_of(lambda: api.post("/api/tickets", json=body))
    looked_up = [text for text in first if "api_key_hash = " in text or "JOIN cti_type" in text]
    assert len(looked_up) == 2
    assert not any(text in second for text in looked_up)
    assert sum("cache_version" in text for text in second) == 1  # what tells it nothing changed
    assert any("INSERT INTO ticket" in text for text in second)


def test_deactivating_the_caller_refuses_their_key_at_once(api, keys):
    assert api.get("/api/me").status_code == 200
    set_active(None, keys.service, False)
    assert api.get("/api/me").status_code == 401


def test_deactivating_an_item_refuses_new_tickets_at_once(api, n8n_body, n8n_cti, keys):
    body = create_body(n8n_body)
    assert api.post("/api/tickets", json=body).status_code == 201
    set_entry_active(keys.admin, "item", n8n_cti[2].id, False)
    refused = api.post("/api/tickets", json=body)
    assert refused.status_code == 422 and "itemId" in refused.get_json()["error"]["fields"]


def test_another_process_revoking_a_key_takes_effect_on_the_next_call(api, keys):
    """A write this process's session did not make (as another process's) is seen at once: the
    version it raised tells the kept caller is stale."""
    assert api.get("/api/me").status_code == 200
    assert api.get("/api/me").status_code == 200  # kept now
    written_elsewhere(sa.update(User).where(User.id == keys.service.id).values(active=False))
    assert api.get("/api/me").status_code == 401


def test_another_process_deactivating_an_item_takes_effect_on_the_next_ticket(api, n8n_body, n8n_cti):
    body = create_body(n8n_body)
    assert api.post("/api/tickets", json=body).status_code == 201
    assert api.post("/api/tickets", json=body).status_code == 201  # the chain is kept now
    written_elsewhere(sa.update(Item).where(Item.id == n8n_cti[2].id).values(active=False))
    assert api.post("/api/tickets", json=body).status_code == 422


def test_unknown_keys_are_never_kept(api, app):
    for n in range(5):
        assert api.as_key(f"sk_{n:043d}").get("/api/me").status_code == 401
    assert not any(name.startswith("api_key:") for name in app.extensions.get("recent_lists", {}))


def test_each_session_gets_its_own_copy_and_the_kept_one_stays_outside_every_session(app, keys):
    from webapp.services.users import user_for_api_key

    key = keys.service.plain_api_key
    user_for_api_key(key)
    db.session.expunge_all()  # as a new request's session starts empty
    merged = user_for_api_key(key)
    kept = next(value for name, value in app.extensions["recent_lists"].items() if name.startswith("api_key:"))
    proto = kept[0][0]
    assert merged is not proto and merged in db.session
    assert sa.inspect(proto).session is None
    assert (merged.id, merged.username, merged.role) == (keys.service.id, "goddard", "SERVICE")


def test_an_object_the_session_already_holds_wins_over_the_kept_copy(app, keys):
    from webapp.services.users import user_for_api_key

    key = keys.service.plain_api_key
    user_for_api_key(key)
    keys.service.display_name = "Renamed, not yet committed"
    assert user_for_api_key(key) is keys.service
    assert keys.service.display_name == "Renamed, not yet committed"
