"""Operator commands: seed once, create users, rotate keys; new secrets are shown once, never logged."""
import logging
import re
from pathlib import Path

import sqlalchemy as sa

from webapp.ops import one_time_secrets
from webapp.extensions import db
from webapp.models import Category, CtiType, Item, Role, User
from webapp.services.users import authenticate, find_user, user_for_api_key

from .ops_support import SECRET_WRITTEN as WRITTEN
from .ops_support import one_time_secret as secret


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Category, CtiType, Item))


def test_seed_creates_admin_goddard_and_cti_once(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    key = secret(first.output, "goddard API key")
    assert user_for_api_key(key).username == "goddard"
    assert find_user("goddard").role == Role.SERVICE
    assert db.session.scalar(sa.select(Item).filter_by(name="Backup")).type.category.name == "TheWrightServer"
    after_first = counts()
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "Nothing to seed" in second.output and "API key" not in second.output
    assert counts() == after_first


def test_seed_in_production_prints_a_random_admin_password(app, runner):
    app.config["EMBEDDED"] = False
    try:
        result = runner.invoke(args=["seed"])
    finally:
        app.config["EMBEDDED"] = True
    password = secret(result.output, "admin password")
    assert password != "admin123"
    assert authenticate("admin", password) is not None


def test_seed_in_embedded_mode_uses_demo_password_and_says_to_change_it(app, runner):
    app.config["EMBEDDED"] = True
    result = runner.invoke(args=["seed"])
    assert "admin123" in result.output and "change it" in result.output
    assert authenticate("admin", "admin123").role == Role.ADMIN


def test_create_user_and_rotate_api_key(runner):
    result = runner.invoke(args=["create-user", "Carol", "--name", "Carol C", "--role", "AGENT", "--password", "long enough pw"])
    assert result.exit_code == 0, result.output
    assert authenticate("carol", "long enough pw").display_name == "Carol C"
    robot = runner.invoke(args=["create-user", "monitor", "--role", "SERVICE"])
    old_key = secret(robot.output, "monitor API key")
    rotated = runner.invoke(args=["rotate-api-key", "monitor"])
    new_key = secret(rotated.output, "monitor API key")
    assert user_for_api_key(old_key) is None
    assert user_for_api_key(new_key).username == "monitor"


def test_create_user_reports_bad_input(runner):
    runner.invoke(args=["create-user", "dave", "--password", "long enough pw"])
    duplicate = runner.invoke(args=["create-user", "DAVE", "--password", "long enough pw"])
    assert duplicate.exit_code != 0 and "taken" in duplicate.output
    short = runner.invoke(args=["create-user", "erin", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output


def test_rotate_unknown_user_fails_cleanly(runner):
    result = runner.invoke(args=["rotate-api-key", "nobody"])
    assert result.exit_code != 0 and "No user" in result.output


def test_on_a_terminal_new_secrets_are_printed_there_and_no_file_is_written(app, runner, monkeypatch):
    monkeypatch.setattr(one_time_secrets, "stdout_is_terminal", lambda: True)
    files_before = set(Path(app.instance_path).glob("secrets-*"))
    app.config["EMBEDDED"] = False
    try:
        result = runner.invoke(args=["seed"])
    finally:
        app.config["EMBEDDED"] = True
    key = re.search(r"^goddard API key: (sk_\S+)$", result.output, re.M).group(1)
    password = re.search(r"^admin password: (\S+)  \(shown once", result.output, re.M).group(1)
    assert user_for_api_key(key).username == "goddard"
    assert authenticate("admin", password) is not None
    assert "written to" not in result.output
    assert set(Path(app.instance_path).glob("secrets-*")) == files_before


def test_off_a_terminal_new_secrets_go_to_a_mode_600_file_the_output_names_and_never_to_a_log(
        app, runner, logs):
    app.config["EMBEDDED"] = False
    try:
        seeded = runner.invoke(args=["seed"])
        rotated = runner.invoke(args=["rotate-api-key", "goddard"])
        robot = runner.invoke(args=["create-user", "monitor", "--role", "SERVICE"])
    finally:
        app.config["EMBEDDED"] = True
    secrets = [secret(seeded.output, "admin password"), secret(seeded.output, "goddard API key"),
               secret(rotated.output, "goddard API key"), secret(robot.output, "monitor API key")]
    files = {Path(m["path"]) for result in (seeded, rotated, robot) for m in WRITTEN.finditer(result.output)}
    assert len(files) == 3  # one per run, both of the seed's secrets in its one file
    for path in files:
        assert path.parent == Path(app.instance_path)
        assert path.stat().st_mode & 0o777 == 0o600
    outputs = seeded.output + rotated.output + robot.output
    logged = "\n".join(logging.Formatter().format(record) for record in logs.records)
    for value in secrets:
        assert value not in outputs and value not in logged
    assert authenticate("admin", secrets[0]) is not None
    assert user_for_api_key(secrets[2]).username == "goddard" and user_for_api_key(secrets[1]) is None
    assert user_for_api_key(secrets[3]).username == "monitor"
