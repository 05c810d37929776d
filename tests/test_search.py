"""Full-text search through the one listing module: what a query finds, on PostgreSQL and SQLite alike
(the suite runs on both), how the index keeps up with edits and comments, ranking, sorting and paging."""
import re
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import Ticket
from webapp.services import comments, listing, search
from webapp.services.listing import ListFilter, list_page
from webapp.services.tickets import assign, change_status, edit_overview, edit_title
from webapp.db.utc import utcnow


def found(q: str, viewer=None, **filters) -> list[str]:
    page = list_page(ListFilter(q=q, statuses=filters.pop("statuses", ()), **filters), viewer, limit=100)
    return [row.display_id for row in page.items]


@pytest.fixture
def corpus(make):
    """Tickets whose text holds what people search for: hosts, error codes, IPs, paths, English."""
    agent = make.user("searcher")
    tickets = {
        "web01": make.ticket(title="web01 is down", overview="Nothing answers on port 443."),
        "web02": make.ticket(title="web02 slow", overview="Latency doubled since the deploy."),
        "reset": make.ticket(title="Checkout fails", overview="Clients see ERR_CONN_RESET from the proxy."),
        "paths": make.ticket(title="Disk alert", overview="Check /var/log/nginx/error.log on db-primary."),
        "ip": make.ticket(title="Odd traffic", overview="Scans from 10.0.3.70 and 10.0.3.8."),
        "restart": make.ticket(title="Plex needs a restart", overview="It restarted itself twice."),
        "phrase": make.ticket(title="Printer", overview="The disk is full, not the printer queue."),
    }
    comments.add_comment(agent, tickets["ip"], "Blocked 10.0.3.7 at the edge firewall.")
    return agent, {name: ticket.display_id for name, ticket in tickets.items()}


@pytest.mark.parametrize("q,expected", [
    ("web01", {"web01"}),
    ("WEB01", {"web01"}),
    ("ERR_CONN_RESET", {"reset"}),
    ("err_conn_reset", {"reset"}),
    ("10.0.3.7", {"ip"}),
    ("10.0.3.70", {"ip"}),
    ("10.0.3.9", set()),
    ("/var/log", {"paths"}),
    ("/var/log/nginx/error.log", {"paths"}),
    ("db-primary", {"paths"}),
    ("restarting", {"restart"}),
    ("restarts", {"restart"}),
    ('"disk is full"', {"phrase"}),
    ('"full disk"', set()),
    ('"disk is full', {"phrase"}),  # an unclosed quote runs to the end
    ("plex -restarted", set()),
    ("plex -web01", {"restart"}),
    ("web01 or web02", {"web01", "web02"}),
    ("web01 OR checkout", {"web01", "reset"}),
    ("slow or port -web02", {"web01", "web02"}),  # an exclusion belongs to its alternative
    ("port or slow -web02", {"web01"}),
    ("down or port", {"web01"}),  # an alternative of stop words only ("down") would match nearly all
    ("slow deploy or clients proxy", {"web02", "reset"}),
])
def test_a_search_finds_what_was_written(corpus, q, expected):
    _, ids = corpus
    assert set(found(q)) == {ids[name] for name in expected}


@pytest.mark.parametrize("q,problem", [
    ("the", "common"),
    ("to be or not to be", "common"),
    ("!!! ... ---", "Nothing to search for"),
    ('""', "Nothing to search for"),
    ("-web01", "Nothing to search for"),
    ("x" * (search.Q_MAX + 1), "under"),
    ("web01\x00", "U+0000"),
])
def test_a_query_that_cannot_run_lists_nothing_and_says_why(corpus, q, problem):
    filters = ListFilter.from_web_args({"q": q})
    assert problem in filters.search_error
    assert list_page(filters, None).items == []


def test_the_web_keeps_a_bad_search_as_typed_and_the_api_refuses_it_by_name(corpus):
    assert ListFilter.from_web_args({"q": "  the  "}).as_args() == {"q": "the"}
    with pytest.raises(listing.ValidationError) as refused:
        ListFilter.from_api_args({"q": "the", "sort": "sideways"})
    assert set(refused.value.fields) == {"q", "sort"}


def test_the_index_follows_edits_comments_and_deletions(corpus, make):
    agent, ids = corpus
    ticket = make.ticket(title="Quiet ticket")
    assert found("zebra") == []
    edit_title(agent, ticket, "Zebra crossing lights")
    assert found("zebra") == [ticket.display_id]
    edit_overview(agent, ticket, "Mentions a giraffe.")
    assert found("giraffe") == [ticket.display_id] and found("zebra") == [ticket.display_id]
    note = comments.add_comment(agent, ticket, "Ordered a replacement from okapi-supplies.")
    assert found("okapi") == [ticket.display_id] and found("giraffe") == [ticket.display_id]
    comments.delete_comment(agent, note)
    assert found("okapi") == [] and found("zebra") == [ticket.display_id]
    edit_title(agent, ticket, "Quiet again")
    assert found("zebra") == [] and found("giraffe") == [ticket.display_id]


def test_search_combines_with_every_filter(corpus, make):
    agent, ids = corpus
    bob = make.user("bob")
    infra = make.cti("Hosting", "Servers", "Hosts")
    mine = make.ticket(title="kestrel on infra", severity=1, cti=infra, assignee=agent)
    theirs = make.ticket(title="kestrel for bob", severity=2, assignee=bob)
    nobody = make.ticket(title="kestrel unowned", severity=2)
    done = make.ticket(title="kestrel fixed", severity=4)
    change_status(agent, done, "RESOLVED")
    everything = {t.display_id for t in (mine, theirs, nobody, done)}
    assert set(found("kestrel")) == everything
    assert set(found("kestrel", statuses=listing.ACTIVE_VALUES)) == everything - {done.display_id}
    assert found("kestrel", statuses=("RESOLVED",)) == [done.display_id]
    assert set(found("kestrel", severities=(2,))) == {theirs.display_id, nobody.display_id}
    assert found("kestrel", category=infra[0].id) == [mine.display_id]
    assert found("kestrel", agent, assignee=listing.ME) == [mine.display_id]
    assert found("kestrel", assignee=str(bob.id)) == [theirs.display_id]
    assert set(found("kestrel", assignee=listing.UNASSIGNED)) == {nobody.display_id, done.display_id}
    since = ListFilter(statuses=(), q="kestrel", updated_since=utcnow() + timedelta(minutes=1))
    assert list_page(since, None).items == []


def test_relevance_puts_a_title_match_before_a_comment_match(make):
    agent = make.user()
    in_comment = make.ticket(title="Unrelated one", overview="nothing here")
    comments.add_comment(agent, in_comment, "the heron was seen again")
    in_title = make.ticket(title="Heron spotted", overview="nothing here")
    in_overview = make.ticket(title="Unrelated two", overview="A heron nests on the roof.")
    assert found("heron") == [in_title.display_id, in_overview.display_id, in_comment.display_id]
    queue = list_page(ListFilter(statuses=(), q="heron", sort=listing.QUEUE), None)
    assert [row.display_id for row in queue.items] == [in_comment.display_id, in_title.display_id,
                                                       in_overview.display_id]


def test_each_row_carries_its_snippet_with_the_match_marked(make):
    agent = make.user()
    ticket = make.ticket(title="Mail", overview="The relay rejects: ERR_SMTP_421 <b>bounces</b> & retries.")
    comments.add_comment(agent, ticket, "Looked at the queue on mail-relay, it's clean.")
    [row] = list_page(ListFilter(statuses=(), q="ERR_SMTP_421"), None).items
    assert "<mark>ERR_SMTP_421</mark> &lt;b&gt;bounces&lt;/b&gt; &amp; retries." in merged(row.snippet)
    [row] = list_page(ListFilter(statuses=(), q='"queue on"'), None).items
    assert "the <mark>queue on</mark> mail-relay, it&#39;s clean" in merged(row.snippet)
    [api_row] = list_page(ListFilter(statuses=(), q="bounces"), None, columns="api").items
    assert "<mark>bounces</mark>" in api_row["snippet"]


def merged(snippet: str) -> str:
    """Marks of neighbouring words as one (SQLite marks a phrase at once, PostgreSQL word by word)."""
    return re.sub(r"</mark>([ _.-])<mark>", r"\1", str(snippet))


@pytest.mark.parametrize("sort,key", [
    ("queue", lambda t: (t.severity, t.created_at, t.id)),
    ("newest", lambda t: (-t.created_at.timestamp(), -t.id)),
    ("updated", lambda t: (-t.updated_at.timestamp(), -t.id)),
])
def test_every_sort_pages_by_its_own_cursor_with_or_without_a_search(make, sort, key):
    agent = make.user()
    moment = utcnow() - timedelta(days=1)
    tickets = []
    for n in range(9):
        ticket = make.ticket(title=f"Pelican {n}", severity=n % 3 + 1)
        ticket.created_at = moment + timedelta(minutes=n % 4)  # ties: the id decides
        tickets.append(ticket)
    db.session.commit()
    for n, ticket in enumerate(tickets[:4]):
        assign(agent, ticket, agent.id)  # moves updated_at
    expected = [t.display_id for t in sorted(tickets, key=key)]
    for q in (None, "pelican"):
        filters = ListFilter(statuses=(), q=q, sort=sort)
        seen, page = [], list_page(filters, None, limit=4)
        while True:
            seen += [row.display_id for row in page.items]
            if not page.next_cursor:
                break
            page = list_page(filters, None, after=page.next_cursor, limit=4)
        assert seen == expected, q
        back = list_page(filters, None, before=page.prev_cursor, limit=4)
        assert [row.display_id for row in back.items] == expected[4:8]


def test_relevance_pages_by_rank_then_id_without_skipping_or_repeating(make):
    agent = make.user()
    for n in range(7):
        ticket = make.ticket(title="Osprey" if n % 2 else "Other", overview="osprey " * (n % 3))
        comments.add_comment(agent, ticket, "osprey seen")
    filters = ListFilter(statuses=(), q="osprey")
    everything = [row.display_id for row in list_page(filters, None, limit=100).items]
    seen, page = [], list_page(filters, None, limit=3)
    while True:
        seen += [row.display_id for row in page.items]
        if not page.next_cursor:
            break
        page = list_page(filters, None, after=page.next_cursor, limit=3)
    assert seen == everything and len(seen) == 7
    assert listing.decode_cursor("tickets", page.prev_cursor) is None  # a relevance cursor is its own


def test_a_cursor_of_one_sort_is_no_cursor_of_another(make):
    for n in range(3):
        make.ticket(title=f"Gannet {n}")
    newest = list_page(ListFilter(statuses=(), sort="newest"), None, limit=1)
    queue = list_page(ListFilter(statuses=()), None, after=newest.next_cursor, limit=1)
    assert queue.is_first


def test_as_args_round_trips_the_search_and_the_sort():
    for args in ({"q": "web01 -db", "sort": "newest"}, {"q": "web01"}, {"sort": "updated", "status": "all"},
                 {"q": "x" * 600}):
        filters = ListFilter.from_web_args(args)
        assert ListFilter.from_web_args(filters.as_args()) == filters and filters.as_args() == args
    assert ListFilter.from_web_args({"q": "a", "sort": "relevance"}).as_args() == {"q": "a"}
    assert ListFilter.from_web_args({"sort": "relevance"}).as_args() == {}
    assert ListFilter.from_web_args({"sort": "sideways"}).as_args() == {}
    assert ListFilter.from_web_args({"q": "a", "sort": "queue"}).as_args() == {"q": "a", "sort": "queue"}


SQL_PAYLOADS = [
    "'; DROP TABLE ticket; --", "\\' OR 1=1 --", "%s %(q)s {q} $1 :q", "' UNION SELECT password_hash FROM \"user\" --",
    "web01'); DELETE FROM comment; --", "ｗｅｂ０１＇ ＯＲ ＇１＇＝＇１", "x\u2019 OR \u2018a\u2019=\u2018a", "é' || chr(39) || '",
]


def test_a_query_reaches_sql_only_as_words_and_the_parsers_own_marks():
    """The query text is written into the statement (services.search.query_param): whatever was
    typed, only letters, digits, non-ASCII characters, spaces and the quotes, dashes, parentheses
    and operators that Search itself writes get there."""
    from tests.security.xss import payloads

    for typed in SQL_PAYLOADS + payloads():
        parsed = search.parse(typed)
        for text in ((parsed.websearch, parsed.fts5) if not parsed.error else ()):
            words = re.sub(r'"[^"\x00-\x1f]*"', "", text)  # the phrases Search quoted
            assert re.fullmatch(r"[\s()\-]*((or|OR|AND|NOT)[\s()\-]*)*", words), (typed, text)
            inside = "".join(re.findall(r'"([^"]*)"', text))
            assert not re.search(r"[\x00-\x1f!-/:-@\[-`{-~]", inside), (typed, text)


@pytest.mark.parametrize("q", SQL_PAYLOADS)
def test_sql_in_a_search_is_searched_for_and_nothing_else(corpus, q):
    _, ids = corpus
    page = list_page(ListFilter(statuses=(), q=q), None)
    assert page.items == [] or {row.display_id for row in page.items} <= set(ids.values())
    assert len(found("web01")) == 1 and db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 7


def test_best_match_first_ranks_the_newest_matches(make, monkeypatch):
    """Relevance ranks the RANKED most recently filed matches (after the other filters); the other
    sorts list every match."""
    monkeypatch.setattr(search, "RANKED", 3)
    listing.page_statement.cache_clear()
    try:
        old = [make.ticket(title="Grebe grebe", overview="grebe") for _ in range(2)]  # the best matches, but oldest
        new = [make.ticket(title="Other", overview=f"a grebe {n}") for n in range(3)]
        assert set(found("grebe")) == {t.display_id for t in new}
        assert set(found("grebe", sort="newest")) == {t.display_id for t in old + new}
        assert found("grebe", sort="newest")[-2:] == [old[1].display_id, old[0].display_id]
    finally:
        listing.page_statement.cache_clear()


def test_every_search_of_one_shape_reuses_one_statement(make):
    """The words are bound at execution (written in as a literal then): one statement per filter
    shape, however many different searches run through it."""
    agent = make.user()
    shapes = {ListFilter(q=q, assignee="me").shape(agent)[0] for q in ("web01", '"disk full" -printer', "a or b")}
    assert len(shapes) == 1
    [shape] = shapes
    assert listing.page_statement(shape, "queue", "first") is listing.page_statement(shape, "queue", "first")
    others = {ListFilter(q="web01", sort=sort).shape(agent)[0] for sort in ("queue", "newest", "updated", None)}
    assert len(others) == 4 and shape not in others
