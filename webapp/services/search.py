"""Full-text search over a ticket's title, overview and comments: the query language, how each
database runs it, and the highlighted snippet. Tickets are listed through services.listing.

The language is PostgreSQL's websearch syntax: words, "quoted phrases", -excluded and `or`
(which separates alternatives: `a b or c` is a-and-b, or c). Both indexes (migration 0006) cut
text at every ASCII punctuation mark and stem English words, keeping stop words:
PostgreSQL through the `ticket_search` text search configuration, SQLite through FTS5's
porter tokenizer. A query is cut the same way here, each term becoming a phrase, so `web01`,
`ERR_CONN_RESET`, `10.0.3.7` and `/var/log` find what was written, and `restarting` finds
`restart`, on both databases.
"""
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from markupsafe import Markup, escape

from ..db.sql import row_limit
from ..extensions import db
from ..models import Ticket
from .text import text_fault

Q_MAX = 500  # characters; a longer query is refused
CONFIG = sa.literal_column("'ticket_search'")  # migration 0006: stemming, no stop words
VECTOR = sa.literal_column("ticket.search_vector")  # PostgreSQL: kept by triggers, GIN-indexed
FTS = sa.table("ticket_search", sa.column("rowid"))  # SQLite: FTS5 table, rowid = ticket id
# Marks around a match and where a snippet cuts the text, as the databases write them: private-use
# characters, so no ticket text is mistaken for markup (and any that is only misplaces a mark).
START, STOP, CUT = "\ue000", "\ue001", "\ue002"
SNIPPET_WORDS = 24  # about; a short text is shown whole
HEADLINE = f"MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, StartSel={START}, StopSel={STOP}"
WEIGHTS = (10.0, 4.0, 2.0)  # SQLite bm25 per column (title, overview, comments), like PostgreSQL's A, B, C
# Best match first ranks the newest this many matches (after the other filters): ranking every one of
# half a million tickets that hold a common word would read each of them, for pages nobody reaches.
RANKED = 10_000

# PostgreSQL's English stop words: a query of nothing else matches nearly everything.
STOP_WORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
hers herself it its itself they them their theirs themselves what which who whom this that these
those am is are was were be been being have has had having do does did doing a an the and but if
or because as until while of at by for with about against between into through during before after
above below to from up down in out on off over under again further then once here there when where
why how all any both each few more most other some such no nor not only own same so than too very s
t can will just don should now
""".split())

_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
_WORD = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")  # ASCII punctuation, controls and spaces cut words
_DISPLAY_ID = re.compile(r"\s*([Vv]\d{9})\s*")

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Search:
    """A parsed query: alternatives, each (phrases that must all occur, phrases that must not);
    or why there is nothing to search for."""

    alternatives: tuple[tuple[tuple[Phrase, ...], tuple[Phrase, ...]], ...] = ()
    error: str | None = None

    @property
    def websearch(self) -> str:
        """The query as PostgreSQL's websearch_to_tsquery reads it: every term a quoted phrase."""
        return " or ".join(" ".join([*(f'"{" ".join(p)}"' for p in wanted), *(f'-"{" ".join(p)}"' for p in unwanted)])
                           for wanted, unwanted in self.alternatives)

    @property
    def fts5(self) -> str:
        """The same query in SQLite FTS5's syntax (NOT there is binary: a NOT b)."""
        expressions = []
        for wanted, unwanted in self.alternatives:
            expression = " AND ".join(f'"{" ".join(p)}"' for p in wanted)
            for phrase in unwanted:
                expression = f'({expression}) NOT "{" ".join(phrase)}"'
            expressions.append(f"({expression})")
        return " OR ".join(expressions)

    def text_for(self, dialect: str) -> str:
        return self.websearch if dialect == "postgresql" else self.fts5


@lru_cache(maxsize=1024)
def parse(text: str) -> Search:
    """`text` as a Search; never raises, whatever was typed."""
    if len(text) > Q_MAX:
        return Search(error=f"Keep searches under {Q_MAX} characters ({len(text):,} now).")
    if fault := text_fault(text):
        return Search(error=fault)
    alternatives, common = [], False
    for terms in _alternatives(text):
        wanted = [words for negated, words in terms if not negated]
        if not wanted:
            continue  # only exclusions: they narrow a search, they are none
        if all(word.lower() in STOP_WORDS for words in wanted for word in words):
            common = True
            continue
        alternatives.append((tuple(wanted), tuple(words for negated, words in terms if negated)))
    if alternatives:
        return Search(tuple(alternatives))
    if common:
        return Search(error="Words as common as these match nearly every ticket: add a more specific word.")
    return Search(error='Nothing to search for: type a word, a number or a "phrase".')


def _alternatives(text: str) -> list[list[tuple[bool, Phrase]]]:
    """The query's terms as (excluded, words), split into alternatives at each bare `or`."""
    alternatives = [[]]
    for negated, quoted, bare in _TERM.findall(text):
        if bare and not negated and bare.lower() == "or":
            alternatives.append([])
            continue
        words = tuple(word for word in _WORD.findall(quoted or bare) if any(ch.isalnum() for ch in word))
        if words:
            alternatives[-1].append((bool(negated), words))
    return [terms for terms in alternatives if terms]


def display_id(text: str | None) -> str | None:
    """The ticket id a query consists of (`v325813929 ` reads as V325813929), if it is one."""
    found = _DISPLAY_ID.fullmatch(text or "")
    return found[1].upper() if found else None


def highlight(raw: str | None) -> Markup:
    """A snippet as the database wrote it, as HTML: every character escaped, the matches in <mark>."""
    html, marked = [], False
    for part in re.split(f"([{START}{STOP}])", " ".join((raw or "").split())):
        if part == START:
            if not marked:
                html.append("<mark>")
            marked = True
        elif part == STOP:
            if marked:
                html.append("</mark>")
            marked = False
        else:
            html.append(str(escape(part.replace(CUT, "…"))))
    if marked:
        html.append("</mark>")
    return Markup("".join(html))


def query_param():
    """The query text, written into the statement, so each search is planned for its own words. Safe
    as a literal: it holds the words typed, which no ASCII punctuation or control character is in,
    and the quotes, dashes, parentheses and operators `Search` writes around them."""
    return sa.bindparam("q", type_=sa.String, literal_execute=True)


def matching(query: sa.Select, dialect: str, with_relevance: bool) -> tuple[sa.Select, tuple | None]:
    """`query` (of ticket ids) narrowed to the tickets that match the bound `q`; and, when the list is
    sorted by relevance, the RANKED newest matches instead, with their (relevance, id) columns (a
    higher relevance is a better match)."""
    if dialect == "postgresql":
        query = query.where(VECTOR.op("@@")(_tsquery()))
        # As double precision: a real's text is rounded, and a cursor must hold the exact rank.
        rank = sa.cast(sa.func.ts_rank(VECTOR, _tsquery(), 1), sa.Double())
    elif with_relevance:
        hits = sa.select(FTS.c.rowid.label("ticket_id"), (-sa.func.bm25(sa.literal_column("ticket_search"), *WEIGHTS))
                         .label("rank")).where(_fts_match()).subquery("hits")
        query, rank = query.join(hits, hits.c.ticket_id == Ticket.id), hits.c.rank
    else:
        query = query.where(Ticket.id.in_(sa.select(FTS.c.rowid).where(_fts_match())))
    if not with_relevance:
        return query, None
    # Ranked in the same pass that picks the newest matches, so no other row is read for its rank.
    candidates = query.add_columns(rank.label("relevance")).order_by(Ticket.id.desc()).limit(row_limit(RANKED))
    candidates = candidates.subquery("candidates")
    return sa.select(candidates.c.id, candidates.c.relevance), (candidates.c.relevance, candidates.c.id)


def snippet(dialect: str) -> sa.ColumnElement:
    """Each ticket's best-matching words from its overview or comments, marked (raw: see `highlight`)."""
    if dialect == "postgresql":
        document = sa.func.concat_ws("\n\n", Ticket.overview, sa.func.ticket_search_comments(Ticket.id))
        headline = sa.func.ts_headline(CONFIG, sa.func.ticket_search_text(document), _tsquery(), HEADLINE)
        return sa.func.ticket_search_shown(headline).label("snippet")
    return sa.select(_sqlite_snippet()).where(FTS.c.rowid == Ticket.id, _fts_match()).scalar_subquery().label("snippet")


def _tsquery():
    return sa.func.websearch_to_tsquery(CONFIG, query_param())


def _fts_match():
    return sa.literal_column("ticket_search").op("MATCH")(query_param())


def _sqlite_snippet():
    """The overview's snippet if the match is there, else the comments', else the overview's start."""
    overview, comments = (sa.func.snippet(sa.literal_column("ticket_search"), column, START, STOP, CUT, SNIPPET_WORDS)
                          for column in (1, 2))
    return sa.case((sa.func.instr(overview, START) > 0, overview), (sa.func.instr(comments, START) > 0, comments),
                   else_=overview)


def ticket_named(q: str | None) -> tuple[str | None, bool]:
    """The ticket id a query consists of, if it is one, and whether a ticket has that id."""
    wanted = display_id(q)
    if wanted is None:
        return None, False
    return wanted, db.session.scalar(sa.select(Ticket.id).where(Ticket.display_id == wanted)) is not None
