"""Secrets stay out of logs: a database error while a password, a key or a webhook secret is being
written is logged by the 500 handler without the statement's values and without the row that
PostgreSQL's message would repeat. (The CLI's one-time secrets: tests/test_cli.py.)"""
import logging
import re
import traceback
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp import config
from webapp.extensions import db
from webapp.models import Role, User, Webhook
from webapp.ops.logs import JsonFormatter

from ..factories import PASSWORD

NEW_PASSWORD = "a brand new password 42"
HOOK_SECRET = "whsec-" + "q" * 30


def logged_text(records) -> str:
    """Everything the records would put in a log, in both of the app's formats."""
    plain, json_lines = logging.Formatter(), JsonFormatter()
    return "\n".join(f"{plain.format(record)}\n{json_lines.format(record)}" for record in records)


@pytest.fixture
def admin_client(client, make):
    make.user("boss", role=Role.ADMIN)
    assert client.post("/login", data={"username": "boss", "password": PASSWORD}).status_code == 303
    return client


@contextmanager
def failing_insert(table: str, bound: list):
    """The driver refuses the INSERT into `table` (a DataError, which no service catches); the values
    it was given are kept in `bound`, to look for in the logs."""
    dialect = db.engine.dialect
    original = dialect.do_execute
    target = re.compile(rf'^\s*INSERT INTO "?{table}"?[ (]', re.I)

    def do_execute(cursor, statement, parameters, context=None):
        if target.match(statement):
            bound.extend(parameters.values() if isinstance(parameters, dict) else parameters)
            raise dialect.loaded_dbapi.DataError("forced by the test")
        return original(cursor, statement, parameters, context)

    dialect.do_execute = do_execute
    try:
        yield
    finally:
        del dialect.do_execute


@contextmanager
def before_flush(change):
    """Call `change(session)` before every flush: how a bug would hand the database a bad row."""
    listener = lambda session, _context, _instances: change(session)  # noqa: E731
    event.listen(Session, "before_flush", listener)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", listener)


def unhandled(records) -> list:
    return [r for r in records if r.name == "webapp.http.errors" and r.exc_info]


def pieces(secret: str) -> list[str]:
    """The secret and the random parts of it that survive truncation (SQLAlchemy and PostgreSQL both
    shorten long values in messages): a password hash's salt and the start of its digest."""
    found = [secret]
    if secret.count("$") == 2:
        _, salt, digest = secret.split("$")
        found += [salt, digest[:16]]
    elif len(secret) > 32:
        found.append(secret[3:19])
    return found


def assert_logged_without(records, secrets: list[str]) -> None:
    assert unhandled(records), "the forced error was not logged by the 500 handler"
    text = logged_text(records)
    assert "[SQL:" in text  # the statement is there to debug with, its values are not
    leaked = [piece for secret in secrets for piece in pieces(secret) if piece in text]
    assert not leaked, leaked


def test_every_engine_hides_bound_parameters(app):
    assert db.engine.hide_parameters is True
    for url in ("sqlite:///x.db", "postgresql+psycopg://u@127.0.0.1/db"):
        assert config.engine_options(url, {})["hide_parameters"] is True


def test_a_failed_user_create_logs_neither_the_password_nor_its_hash(admin_client, logs):
    bound = []
    with failing_insert("user", bound):
        response = admin_client.post("/admin/users/new", data={
            "username": "newbie", "display_name": "Newbie", "role": "AGENT", "password": NEW_PASSWORD})
    assert response.status_code == 500
    password_hash = next(value for value in bound if isinstance(value, str) and value.startswith("pbkdf2:"))
    assert_logged_without(logs.records, [NEW_PASSWORD, password_hash])


def test_a_failed_service_account_create_logs_neither_the_key_nor_its_hash(admin_client, logs, monkeypatch):
    issued = []
    real_issue = User.issue_api_key
    monkeypatch.setattr(User, "issue_api_key", lambda user: issued.append(real_issue(user)) or issued[-1])
    bound = []
    with failing_insert("user", bound):
        response = admin_client.post("/admin/users/new", data={
            "username": "robot", "display_name": "Robot", "role": "SERVICE", "password": ""})
    assert response.status_code == 500
    key_hash = next(value for value in bound if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value))
    assert_logged_without(logs.records, [issued[0], key_hash])


def test_a_password_reset_the_database_refuses_logs_neither_the_password_nor_the_row(admin_client, make, logs):
    """A real constraint failure: PostgreSQL's DETAIL would repeat the whole row, new hash and all."""
    target = make.user("target")
    hashes = [target.password_hash]

    def turn_into_a_robot(session):  # a person with a password cannot be a service account
        for user in session.dirty:
            if isinstance(user, User) and user.id == target.id:
                user.role = Role.SERVICE
                hashes.append(user.password_hash)

    with before_flush(turn_into_a_robot):
        response = admin_client.post(f"/admin/users/{target.id}/password", data={"password": NEW_PASSWORD})
    assert response.status_code == 500
    assert hashes[1] != hashes[0]
    assert_logged_without(logs.records, [NEW_PASSWORD, *hashes])


def test_a_webhook_create_the_database_refuses_logs_no_secret(admin_client, logs):
    """A real NOT NULL failure while the secret is being stored."""
    def lose_the_url(session):
        for hook in session.new:
            if isinstance(hook, Webhook):
                hook.url = None

    with before_flush(lose_the_url):
        response = admin_client.post("/admin/webhooks/new", data={
            "name": "n8n", "url": "https://n8n.example.com/webhook/x", "secret": HOOK_SECRET, "events": "create"})
    assert response.status_code == 500
    assert_logged_without(logs.records, [HOOK_SECRET])


def test_a_constraint_failure_does_not_repeat_the_row(app, make):
    """On PostgreSQL the error's text keeps the constraint's name but drops "Failing row contains (…)";
    the detail stays on the driver's diagnostics for code that needs it."""
    person = make.user("person")
    with pytest.raises(IntegrityError) as failure:
        with db.session.begin_nested():
            db.session.execute(sa.update(User).where(User.id == person.id).values(role="SERVICE"))
    text = "".join(traceback.format_exception(failure.value))
    assert "service_no_password" in text
    assert not [piece for piece in pieces(person.password_hash) if piece in text]
    diag = getattr(failure.value.orig, "diag", None)
    if diag is not None:
        assert "Failing row contains" in diag.message_detail
