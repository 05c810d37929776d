"""Sessions can be revoked: each sign-in is its own (webapp/models/user.py SignIn), its cookies carry
its token, and ending it refuses them, copies included. Signing out ends this device's sign-in;
signing out everywhere, a password change or reset, deactivation and a role change end the others."""
from datetime import timedelta

import pytest
from flask_login.utils import encode_cookie

from webapp.db.utc import utcnow
from webapp.extensions import db
from webapp.models import AuditEvent, Role, SignIn, User
from webapp.services.users import authenticate

from ..conftest import CsrfClient
from ..factories import PASSWORD

NEW_PASSWORD = "a brand new secret"


def browser(app) -> CsrfClient:
    """A browser of its own: its own cookies, valid CSRF tokens."""
    return CsrfClient(app, app.response_class, use_cookies=True)


def signed_in(app, username="agent", password=PASSWORD, remember=False) -> CsrfClient:
    client = browser(app)
    form = {"username": username, "password": password, **({"remember": "y"} if remember else {})}
    assert client.post("/login", data=form).status_code == 303
    return client


def cookie(client, name: str) -> str:
    return client.get_cookie(name).value


def carrying(app, name: str, value: str) -> CsrfClient:
    """Another browser holding only a copy of one cookie (as a thief would)."""
    client = browser(app)
    client.set_cookie(name, value)
    return client


def is_signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


@pytest.fixture
def agent(make):
    return make.user("agent")


@pytest.fixture
def boss(app, make):
    make.user("boss", role=Role.ADMIN)
    return signed_in(app, "boss")


def test_a_session_cookie_copied_before_signing_out_is_refused_after_it(app, agent):
    device = signed_in(app)
    copy = cookie(device, "session")
    assert is_signed_in(carrying(app, "session", copy))
    assert device.post("/logout").status_code == 303
    assert not is_signed_in(carrying(app, "session", copy))
    assert not is_signed_in(device)


def _sign_out(app, agent, device, boss):
    assert device.post("/logout").status_code == 303


def _admin_reset(app, agent, device, boss):
    assert boss.post(f"/admin/users/{agent.id}/password", data={"password": NEW_PASSWORD}).status_code == 303


def _own_change_elsewhere(app, agent, device, boss):
    other = signed_in(app)
    form = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    assert other.post("/profile/password", data=form).status_code == 303


def _deactivate_and_reactivate(app, agent, device, boss):
    assert boss.post(f"/admin/users/{agent.id}/deactivate").status_code == 303
    assert boss.post(f"/admin/users/{agent.id}/reactivate").status_code == 303


def _role_change(app, agent, device, boss):
    form = {"display_name": agent.display_name, "role": "ADMIN"}
    assert boss.post(f"/admin/users/{agent.id}", data=form).status_code == 303


@pytest.mark.parametrize("action", [_sign_out, _admin_reset, _own_change_elsewhere, _deactivate_and_reactivate,
                                    _role_change], ids=lambda action: action.__name__.strip("_"))
def test_a_remember_cookie_copied_before_is_refused_after(app, agent, boss, action):
    device = signed_in(app, remember=True)
    copy = cookie(device, "remember_token")
    assert is_signed_in(carrying(app, "remember_token", copy))
    action(app, agent, device, boss)
    assert not is_signed_in(carrying(app, "remember_token", copy))


def test_every_sign_in_gets_a_remember_cookie_of_its_own(app, agent):
    first, second = signed_in(app, remember=True), signed_in(app, remember=True)
    assert cookie(first, "remember_token") != cookie(second, "remember_token")
    assert cookie(first, "remember_token").split("|")[0] != str(agent.id)


def test_cookies_from_before_sign_ins_were_kept_are_refused(app, agent):
    """The bare user id the session and remember cookies used to carry opens nothing any more."""
    old_session = browser(app)
    with old_session.session_transaction() as stored:
        stored["_user_id"], stored["_fresh"] = str(agent.id), True
    assert not is_signed_in(old_session)
    with app.test_request_context():
        old_remember = encode_cookie(str(agent.id))
    assert not is_signed_in(carrying(app, "remember_token", old_remember))


def test_signing_out_on_one_device_refuses_its_copies_and_leaves_the_others_signed_in(app, agent):
    laptop, phone = signed_in(app), signed_in(app, remember=True)
    laptop_copy = cookie(laptop, "session")
    assert laptop.post("/logout").status_code == 303
    assert not is_signed_in(laptop) and not is_signed_in(carrying(app, "session", laptop_copy))
    assert is_signed_in(phone)
    assert is_signed_in(carrying(app, "remember_token", cookie(phone, "remember_token")))


def test_signing_out_everywhere_signs_out_every_device(app, agent):
    laptop, phone = signed_in(app), signed_in(app, remember=True)
    copies = {"session": cookie(laptop, "session"), "remember_token": cookie(phone, "remember_token")}
    response = laptop.post("/profile/sign-out-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    assert not any(is_signed_in(carrying(app, name, value)) for name, value in copies.items())
    assert db.session.scalars(db.select(SignIn).filter_by(user_id=agent.id)).all() == []


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(app, agent):
    laptop, phone = signed_in(app, remember=True), signed_in(app, remember=True)
    laptop_copy = cookie(laptop, "remember_token")
    form = {"current_password": PASSWORD, "password": NEW_PASSWORD}
    response = laptop.post("/profile/password", data=form)
    assert response.status_code == 303 and response.headers["Location"] == "/profile"
    assert is_signed_in(laptop)
    assert is_signed_in(carrying(app, "remember_token", laptop_copy))  # this device's sign-in stays whole
    assert not is_signed_in(phone)
    assert authenticate("agent", PASSWORD) is None and authenticate("agent", NEW_PASSWORD) is not None


def test_a_wrong_current_password_is_refused_beside_its_field(app, agent):
    laptop, phone = signed_in(app), signed_in(app)
    response = laptop.post("/profile/password", data={"current_password": "not it", "password": NEW_PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="current_password-error"' in page and "That is not your current password." in page
    assert 'aria-describedby="current_password-error"' in page
    assert is_signed_in(laptop) and is_signed_in(phone)
    assert authenticate("agent", PASSWORD) is not None


def test_a_new_password_follows_the_rule_of_the_admin_reset(app, agent):
    laptop = signed_in(app)
    response = laptop.post("/profile/password", data={"current_password": PASSWORD, "password": "short"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page and "Use at least 8 characters." in page
    assert authenticate("agent", PASSWORD) is not None


def _own_events(user: User) -> list[tuple]:
    query = db.select(AuditEvent).filter_by(target_type="user", target_id=user.id).order_by(AuditEvent.id)
    return [(event.action, event.actor_id) for event in db.session.scalars(query)]


def test_each_of_ones_own_account_actions_writes_one_audit_event(app, agent):
    laptop = signed_in(app)
    start = len(_own_events(agent))
    laptop.post("/profile/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    laptop.post("/logout")
    signed_in(app, password=NEW_PASSWORD).post("/profile/sign-out-everywhere")
    assert _own_events(agent)[start:] == [("user_password_change", agent.id), ("user_sign_out", agent.id),
                                          ("user_sign_out_everywhere", agent.id)]


def test_the_header_links_to_ones_own_account_page(app, agent):
    page = signed_in(app).get("/").get_data(as_text=True)
    assert 'href="/profile"' in page


def test_the_admin_log_tells_ones_own_account_actions_in_words(app, agent, boss):
    laptop = signed_in(app)
    laptop.post("/profile/password", data={"current_password": PASSWORD, "password": NEW_PASSWORD})
    laptop.post("/logout")
    page = boss.get("/admin/log?kind=users").get_data(as_text=True)
    assert "changed the password of" in page and "signed out one browser of" in page


def test_a_sign_in_older_than_a_remember_cookie_lives_is_forgotten_at_the_next_sign_in(app, agent):
    stale = SignIn(user_id=agent.id, token_hash="0" * 64, created_at=utcnow() - timedelta(days=366))
    fresh = SignIn(user_id=agent.id, token_hash="1" * 64, created_at=utcnow() - timedelta(days=364))
    db.session.add_all([stale, fresh])
    db.session.commit()
    signed_in(app)
    hashes = set(db.session.scalars(db.select(SignIn.token_hash).filter_by(user_id=agent.id)))
    assert "0" * 64 not in hashes and "1" * 64 in hashes and len(hashes) == 2
