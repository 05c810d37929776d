"""Parallel guesses: a sign-in reserves its place in both budgets before the password is checked, so
25 simultaneous attempts on one account check at most its 5 passwords, in Redis and in memory."""
import threading

import pytest

from webapp.extensions import db

from ..conftest import CsrfClient, committing_app, make_app
from ..factories import PASSWORD, Factories

ATTEMPTS = 25
WRONG = "not the password"


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limits(request):
    """The suite's sign-in budgets, counted in this process or in Redis."""
    settings = {"LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes", "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes"}
    if request.param == "redis":
        url, prefix = request.getfixturevalue("redis_keyspace")
        settings.update(REDIS_URL=url, RATELIMIT_KEY_PREFIX=prefix)
    return request.param, settings


@pytest.fixture
def limited_app(database_url, tmp_path, limits):
    kind, settings = limits
    with committing_app(database_url, f"race_{kind}", tmp_path, **settings) as app:
        app.test_client_class = CsrfClient
        yield app


def make_users(app, *names):
    with app.app_context():
        for name in names:
            Factories().user(name)


class Gate:
    """Counts password checks; holds each attempt the throttle let through until every attempt has
    been let through or refused, so all are in flight at once however the threads are scheduled
    (held before the view opens a transaction: SQLite lets one writer in at a time)."""

    def __init__(self, monkeypatch, attempts: int):
        import webapp.auth.routes as routes
        import webapp.models.user as users

        self.checked = self.passed = self.refused = 0
        self._attempts, self._turn = attempts, threading.Condition()
        check, authenticate = users.check_password_hash, routes.authenticate
        monkeypatch.setattr(users, "check_password_hash", lambda *args: self._count() or check(*args))
        monkeypatch.setattr(routes, "authenticate", lambda *args: self._hold() or authenticate(*args))

    def _count(self) -> None:
        with self._turn:
            self.checked += 1

    def _hold(self) -> None:
        with self._turn:
            self.passed += 1
            self._turn.notify_all()
            self._turn.wait_for(lambda: self.passed + self.refused >= self._attempts, timeout=20)

    def answered(self, response) -> None:
        if response.status_code == 429:
            with self._turn:
                self.refused += 1
                self._turn.notify_all()


def all_at_once(apps, gate: Gate, attempts: list[tuple[str, str, str]]) -> list:
    """POST every (username, password, address) from its own thread and client, started together;
    `apps` take turns, as gunicorn's workers would."""
    start, answers = threading.Barrier(len(attempts)), [None] * len(attempts)

    def attempt(n, username, password, address):
        client = apps[n % len(apps)].test_client()
        token = client.csrf_token()
        start.wait(timeout=20)
        answers[n] = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                 environ_base={"REMOTE_ADDR": address}, csrf=False)
        gate.answered(answers[n])

    threads = [threading.Thread(target=attempt, args=(n, *args)) for n, args in enumerate(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def assert_refused(answers, expected: int) -> None:
    refused = [answer for answer in answers if answer.status_code == 429]
    assert len(refused) == expected
    assert all(1 <= int(answer.headers["Retry-After"]) <= 15 * 60 for answer in refused)


def test_simultaneous_guesses_on_one_account_check_at_most_its_budget(limited_app, monkeypatch):
    make_users(limited_app, "victim")
    gate = Gate(monkeypatch, ATTEMPTS)
    guesses = [("victim", WRONG + str(n), "10.0.0.7") for n in range(ATTEMPTS - 1)] + [("victim", PASSWORD, "10.0.0.7")]
    answers = all_at_once([limited_app], gate, guesses)
    assert gate.checked == 5
    assert_refused(answers, ATTEMPTS - 5)
    signed_in = answers[-1].status_code == 303
    assert sorted(answer.status_code for answer in answers if answer.status_code != 429) == \
        sorted([422] * (5 - signed_in) + [303] * signed_in)  # the right password only if it was one of the 5


def test_simultaneous_guesses_from_one_address_check_at_most_its_budget_and_hold_no_account(
        limited_app, monkeypatch):
    """The address budget refuses after the account's was reserved: that reservation is given back."""
    limited_app.config.update(LOGIN_LIMIT_PER_ACCOUNT="1 per 15 minutes", LOGIN_LIMIT_PER_ADDRESS="5 per 15 minutes")
    names = [f"person{n}" for n in range(ATTEMPTS)]
    make_users(limited_app, *names)
    gate = Gate(monkeypatch, ATTEMPTS)
    answers = all_at_once([limited_app], gate, [(name, WRONG, "10.0.0.8") for name in names])
    assert gate.checked == 5
    assert_refused(answers, ATTEMPTS - 5)
    client = limited_app.test_client()
    again = {name: client.post("/login", data={"username": name, "password": WRONG},
                               environ_base={"REMOTE_ADDR": f"10.1.0.{n}"}).status_code
             for n, name in enumerate(names)}
    checked = {name for name, answer in zip(names, answers) if answer.status_code == 422}
    assert again == {name: 429 if name in checked else 422 for name in names}  # only the 5 spent their one


def test_without_redis_each_process_counts_alone_budget_times_processes(database_url, tmp_path, monkeypatch):
    """SECURITY.md: with Redis unreachable, an account gets its budget in each web process, no more."""
    down = {"REDIS_URL": "redis://127.0.0.1:9/0", "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes"}
    with committing_app(database_url, "race_down", tmp_path, **down) as first:
        second = make_app(first.config["SQLALCHEMY_DATABASE_URI"], **down)  # another process, one database
        first.test_client_class = second.test_client_class = CsrfClient
        make_users(first, "victim")
        gate = Gate(monkeypatch, ATTEMPTS)
        try:
            answers = all_at_once([first, second], gate, [("victim", WRONG, "10.0.0.7")] * ATTEMPTS)
        finally:
            with second.app_context():
                db.engine.dispose()
        assert gate.checked == 10
        assert_refused(answers, ATTEMPTS - 10)
