"""The search index under concurrent writers (real threads, real commits): every comment and edit
that lands is findable afterwards, whichever transaction's trigger ran last."""
import pytest

from webapp.extensions import db
from webapp.models import Ticket
from webapp.services import comments
from webapp.services.listing import ListFilter, list_page
from webapp.services.tickets import edit_title

from .factories import Factories
from .jobs_fixtures import committed_app, committed_db  # noqa: F401
from .security.test_concurrency import all_at_once, on_postgres


def found(app, q: str) -> list[str]:
    with app.app_context():
        try:
            return [row.display_id for row in list_page(ListFilter(statuses=(), q=q), None).items]
        finally:
            db.session.remove()


def in_own_session(app, action):
    """Run `action(ticket, agent)` as a request of its own would: its own session and commit."""
    def run():
        with app.app_context():
            try:
                ticket = db.session.scalar(db.select(Ticket))
                return action(ticket, db.session.get(type(ticket.creator), ticket.creator_id))
            finally:
                db.session.remove()
    return run


@pytest.mark.postgres
def test_simultaneous_comments_and_a_title_edit_all_reach_the_index(committed_app):
    """Each trigger rebuilds the ticket's vector from the comments it can see: it must see the ones
    committed while it waited for the ticket's row, or the last writer drops the others' words."""
    on_postgres()
    app = committed_app()
    with app.app_context():
        ticket = Factories().ticket(title="Race base")
        display_id = ticket.display_id
        db.session.remove()
    words = [f"word{n}x" for n in range(12)]
    writers = [in_own_session(app, lambda t, a, w=w: comments.add_comment(a, t, f"seen {w}")) for w in words]
    writers.append(in_own_session(app, lambda t, a: edit_title(a, t, "Renamed kingfisher")))
    outcomes = all_at_once(*writers)
    assert [exc for _, exc in outcomes] == [None] * len(writers)
    assert {word: found(app, word) for word in words} == {word: [display_id] for word in words}
    assert found(app, "kingfisher") == [display_id] and found(app, "base") == []
