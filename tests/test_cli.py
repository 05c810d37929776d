"""Operator commands: seed once, create users, rotate keys."""
import re

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Category, CtiType, Item, Role, User
from webapp.services.users import authenticate, find_user, user_for_api_key

KEY_LINE = re.compile(r"^goddard API key: (sk_\S+)$", re.M)


def counts():
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Category, CtiType, Item))


def test_seed_creates_admin_goddard_and_cti_once(runner):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    key = KEY_LINE.search(first.output).group(1)
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
    password = re.search(r"admin password: (\S+)", result.output).group(1)
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
    old_key = re.search(r"monitor API key: (sk_\S+)", robot.output).group(1)
    rotated = runner.invoke(args=["rotate-api-key", "monitor"])
    new_key = re.search(r"^monitor API key: (sk_\S+)$", rotated.output, re.M).group(1)
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
