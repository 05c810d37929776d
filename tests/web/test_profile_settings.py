"""The profile's settings: display name, email, time zone (times shown in it), theme, notifications."""
from datetime import datetime, timezone

from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services import notify_prefs
from webapp.ui.templating import exact_time


def test_settings_are_saved_audited_and_shown(client, agent):
    response = client.post("/profile/settings", data={"display_name": "Alex  A. Agent", "email": "alex@example.com",
                                                      "time_zone": "Europe/Berlin", "theme": "dark"})
    assert response.status_code == 303
    db.session.refresh(agent)
    assert (agent.display_name, agent.email, agent.time_zone, agent.theme) == (
        "Alex A. Agent", "alex@example.com", "Europe/Berlin", "dark")
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="user_update").order_by(AuditEvent.id.desc()))
    assert event.after == {"displayName": "Alex A. Agent", "email": "alex@example.com",
                           "timeZone": "Europe/Berlin", "theme": "dark"}
    page = client.get("/profile").get_data(as_text=True)
    assert '<html lang="en" data-theme="dark">' in page and 'content="dark"' in page
    assert "Your settings are saved." in page


def test_bad_settings_are_named_beside_their_fields_and_the_text_is_kept(client, agent):
    response = client.post("/profile/settings", data={"display_name": "", "email": "not an address",
                                                      "time_zone": "Mars/Olympus", "theme": "neon"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("display_name", "email", "time_zone", "theme"):
        assert f'id="{field}-error"' in page, field
    assert 'value="not an address"' in page and 'value="Mars/Olympus"' in page
    db.session.refresh(agent)
    assert agent.email is None and agent.time_zone is None and agent.theme == "auto"


def test_exact_times_are_shown_in_the_persons_time_zone(client, agent, app):
    agent.time_zone = "America/New_York"
    db.session.commit()
    moment = datetime(2026, 12, 4, 15, 30, tzinfo=timezone.utc)
    with app.test_request_context("/"):
        from flask_login import login_user
        login_user(agent)
        assert exact_time(moment) == "2026-12-04 10:30 EST"
    from flask import g
    for name in ("display_zone", "_login_user"):  # the tests share one app context; a request gets a fresh g
        g.pop(name, None)
    with app.test_request_context("/"):
        assert exact_time(moment) == "2026-12-04 15:30 UTC"


def test_notification_modes_are_saved_and_an_unknown_one_refused(client, agent):
    response = client.post("/profile/notifications", data={"comment": "digest", "assigned": "off"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/profile#notifications")
    db.session.refresh(agent)
    modes = notify_prefs.modes(agent)
    assert modes[notify_prefs.Reason.COMMENT] == "digest" and modes[notify_prefs.Reason.ASSIGNED] == "off"
    assert modes[notify_prefs.Reason.MENTIONED] == "email"  # the default stays
    bad = client.post("/profile/notifications", data={"comment": "carrier-pigeon"})
    assert bad.status_code == 422 and 'id="comment-error"' in bad.get_data(as_text=True)
    page = client.get("/profile").get_data(as_text=True)
    assert '<option value="digest" selected>' in page
