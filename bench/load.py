"""Fill a PostgreSQL database with N realistic tickets through COPY, for the benchmarks.

    .venv/bin/python bench/load.py --tickets 100000            # fresh database, 100k tickets
    .venv/bin/python bench/load.py --append --sweep-due 100000 # add 100k RESOLVED tickets past 14 days
    .venv/bin/python bench/load.py --drop                      # drop the bench database

The schema comes from the app's own migrations; people and the CTI tree are created through
the app (services and models), the ticket history in bulk with COPY. What the runner needs
(the service account's API key, ticket ids) goes to bench/out/state.json.
"""
import argparse
import json
import os
import random
import re
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from functools import cache
from pathlib import Path
from queue import Queue

import psycopg
from psycopg import sql

import corpus
from history import (AUDIT_COLUMNS, COMMENT_COLUMNS, OPEN, RESOLVED, TICKET_COLUMNS, WORKED_COMMENTS,
                     HistoryGenerator, Reference, display_ids)

BENCH = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketing_bench"
DEFAULT_STATE = BENCH / "out" / "state.json"
PASSWORD = "bench-password"
AGENTS = 50
WATCHED_TICKETS = 200  # each watched by all AGENTS, for the comment fan-out benchmark
SERVICE_USER = "goddard"
PAGE_TICKETS = 10        # OPEN, exactly 20 comments: the ticket-page and tab benchmarks read these
COMMENT_TICKETS = 200    # OPEN, no comments: the comment-post benchmark spreads its posts over these
CHUNK = 25_000
BULK_TABLES = ("ticket", "comment", "audit_event")
SEARCH_TRIGGERS = (("ticket", "ticket_search"), ("comment", "comment_search"))  # migration 0003
SEARCH_CHECKED = 300  # loaded tickets whose search vector is compared with what the triggers write


def psycopg_url(url: str) -> str:
    """The app takes postgresql+psycopg://; libpq wants plain postgresql://."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def admin_connection(url: str) -> psycopg.Connection:
    """A connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    return psycopg.connect(psycopg_url(url), dbname="postgres", autocommit=True)


def database_name(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(psycopg_url(url))["dbname"]


def drop_database(url: str) -> None:
    name = database_name(url)
    if "bench" not in name:
        sys.exit(f"refusing to drop {name!r}: bench databases have 'bench' in their name")
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url))))


def recreate_database(url: str) -> None:
    drop_database(url)
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database_name(url))))


def make_app(url: str):
    """The app in production mode on the bench database (same config path as gunicorn's)."""
    from webapp import create_app

    # Bench accounts share a published password, so a cheap hash keeps setup quick; the
    # benchmarks never measure login, and check_password reads the method from the hash.
    return create_app({
        "ENV_VARS": {"DATABASE_URL": url, "SECRET_KEY": "bench-loader"},
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })


def migrate_and_seed(url: str, rng: random.Random) -> dict:
    """Run the migrations, then create people (through the service) and the CTI tree."""
    import flask_migrate

    from webapp.extensions import db
    from webapp.models import Category, CtiType, Item, Role
    from webapp.services.users import create_user

    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        create_user(None, username="admin", display_name="Bench Admin", role=Role.ADMIN, password=PASSWORD)
        service, api_key = create_user(None, username=SERVICE_USER, display_name="Goddard", role=Role.SERVICE)
        agents = [
            create_user(None, username=username, display_name=name, role=Role.AGENT, password=PASSWORD)[0]
            for username, name in corpus.people(AGENTS, rng)
        ]
        items = []
        for cat_name, types in corpus.CTI_TREE.items():
            category = Category(name=cat_name)
            for type_name, item_names in types.items():
                cti_type = CtiType(category=category, name=type_name)
                items += [Item(type=cti_type, name=name) for name in item_names]
            db.session.add(category)
        db.session.commit()
        backup = items[0]  # TheWrightServer > Automation > Backup, the n8n workflow's item
        return {
            "database_url": url,
            "password": PASSWORD,
            "agent": agents[0].username,
            "agent_id": agents[0].id,
            "admin": "admin",
            "service": {"username": SERVICE_USER, "id": service.id, "api_key": api_key},
            "category_id": backup.type.category_id,
            "n8n": {"categoryId": str(backup.type.category_id), "typeId": str(backup.type_id),
                    "itemId": str(backup.id), "assigneeId": str(service.id)},
            "tickets": 0,
            "page_tickets": [],
            "comment_tickets": [],
            "loads": [],
        }


def reference(conn: psycopg.Connection) -> Reference:
    """People and CTI ids as they are in the database."""
    agents = conn.execute("SELECT id, display_name FROM \"user\" WHERE role = 'AGENT' ORDER BY id").fetchall()
    service_id = conn.execute("SELECT id FROM \"user\" WHERE username = %s", (SERVICE_USER,)).fetchone()[0]
    items = conn.execute("""
        SELECT c.id, t.id, i.id, c.name || ' › ' || t.name || ' › ' || i.name
        FROM item i JOIN cti_type t ON t.id = i.type_id JOIN category c ON c.id = t.category_id
        ORDER BY i.id
    """).fetchall()
    return Reference(agents=agents, service_id=service_id, items=items)


def next_id(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table))).fetchone()[0]


def column_types(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> list[int]:
    """Type oids of `columns`, which binary COPY needs to encode each value.

    json goes as text: its binary form is its text, and our rows already hold serialised JSON
    (psycopg's json dumper would encode the string again).
    """
    found = dict(conn.execute(
        "SELECT attname, CASE WHEN atttypid = 'json'::regtype THEN 'text'::regtype ELSE atttypid END::int"
        " FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
        (table,)).fetchall())
    return [found[column] for column in columns]


def copy_rows(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], types: list[int], rows: list) -> None:
    """Binary COPY: no text formatting of timestamps on our side, no parsing on the server's."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


@contextmanager
def search_index_from_parts(conn: psycopg.Connection, generator: HistoryGenerator):
    """Inside the caller's transaction: each ticket's search vector copied in with its row, its
    document's (HistoryGenerator), whose texts PostgreSQL tokenized once each, instead of the
    triggers tokenizing every ticket, and its ticket again for each comment (many times the whole
    load's cost). Yields False where the database has no search index.

    A document's vector is the triggers' own, ticket_search_document() of its title, overview and
    comments (a thread, joined as ticket_search_comments() joins them): each text is tokenized with
    its part's weight, then the three concatenated as that function does (the tsvector || operator
    shifts positions as if the texts were one). check_search_vectors compares a sample afterwards.
    """
    if not conn.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'ticket_search'").fetchone():
        yield False
        return
    _search_triggers(conn, "DISABLE")
    texts, docs = generator.search_parts()
    conn.execute("CREATE TEMP TABLE search_text (id integer PRIMARY KEY, body text, weight \"char\") ON COMMIT DROP")
    conn.execute("CREATE TEMP TABLE search_doc (id integer PRIMARY KEY, title integer, overview integer, "
                 "thread integer) ON COMMIT DROP")
    with conn.cursor() as cur:
        for statement, rows in (("COPY search_text (id, body, weight) FROM STDIN", texts),
                                ("COPY search_doc (id, title, overview, thread) FROM STDIN", docs)):
            with cur.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
    generator.doc_vectors = [row[0] for row in conn.execute("""
        WITH part AS (SELECT id, setweight(to_tsvector('ticket_search', ticket_search_text(body)), weight) AS vector
                      FROM search_text)
        SELECT tsvectorsend(title.vector || overview.vector || coalesce(thread.vector, ''))
        FROM search_doc d JOIN part title ON title.id = d.title JOIN part overview ON overview.id = d.overview
        LEFT JOIN part thread ON thread.id = d.thread ORDER BY d.id""")]
    _register_binary_tsvector(conn)
    yield True
    _search_triggers(conn, "ENABLE")


def _search_triggers(conn: psycopg.Connection, verb: str) -> None:
    for table, trigger in SEARCH_TRIGGERS:
        conn.execute(sql.SQL(f"ALTER TABLE {{}} {verb} TRIGGER {{}}").format(sql.Identifier(table),
                                                                            sql.Identifier(trigger)))


def _register_binary_tsvector(conn: psycopg.Connection) -> None:
    """COPY takes the tsvectors as tsvectorsend wrote them: bytes, passed through as they are."""
    class Packed(psycopg.adapt.Dumper):
        format = psycopg.pq.Format.BINARY
        oid = conn.execute("SELECT 'tsvector'::regtype::oid").fetchone()[0]

        def dump(self, obj):
            return obj

    conn.adapters.register_dumper(None, Packed)


def search_words(generator: HistoryGenerator) -> dict:
    """What the search benchmarks look for: a common word, and the request id and IP of the first
    ticket's overview (each overview closes with a fact of its own: rare words)."""
    overview = generator.batch.tickets[0][TICKET_COLUMNS.index("overview")]
    return {"common": corpus.COMMON_WORD, "rare": re.search(r"(?:request(?: id)?|trace) ([0-9a-f]{8})", overview)[1],
            "ip": re.search(r"10(\.\d+){3}", overview)[0]}


def check_search_vectors(conn: psycopg.Connection, worked: list[str]) -> None:
    """A sample of loaded tickets and the `worked` ones (20 comments each) must hold the very vector
    the triggers would have written, or the search benchmarks would measure other data."""
    wrong = conn.execute("""
        SELECT count(*) FROM (
            (SELECT * FROM ticket TABLESAMPLE BERNOULLI (1) LIMIT %s) UNION
            SELECT * FROM ticket WHERE display_id = ANY(%s)) AS t
        WHERE search_vector IS DISTINCT FROM ticket_search_document(title, overview, ticket_search_comments(id))
    """, (SEARCH_CHECKED, worked)).fetchone()[0]
    if wrong:
        sys.exit(f"{wrong} loaded search vectors differ from the triggers' (bench/load.py search_index_from_parts)")


@contextmanager
def deferred_indexes_and_keys(conn: psycopg.Connection, tables: tuple[str, ...]):
    """Inside the caller's transaction: drop secondary indexes and foreign keys, put them back at the end.

    PostgreSQL's own advice for bulk loads ("Populating a Database"): one sorted index build and
    one set-based foreign-key validation are far cheaper than a million row-by-row updates. The
    definitions are read from the catalog and restored verbatim; ADD CONSTRAINT re-checks every row.
    DDL is transactional, so if anything fails the rollback restores them and no other session
    ever sees the tables without them (DROP INDEX holds an exclusive lock until commit).
    """
    names = list(tables)
    indexes = conn.execute("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
    """, (names,)).fetchall()
    keys = conn.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
    """, (names,)).fetchall()
    for table, name, _ in keys:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.SQL(table), sql.Identifier(name)))
    for name, _ in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    started = time.perf_counter()
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        conn.execute(definition)
    for table, name, definition in keys:
        conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.SQL(table), sql.Identifier(name), sql.SQL(definition)))
    print(f"  rebuilt {len(indexes)} indexes and validated {len(keys)} foreign keys in "
          f"{time.perf_counter() - started:.1f}s", file=sys.stderr)


def bulk_load(conn: psycopg.Connection, state: dict, *, tickets: int, sweep_due: int, rng: random.Random) -> dict:
    """COPY tickets, comments and audit rows in one transaction; return counts and the ticket rate."""
    taken = {row[0] for row in conn.execute("SELECT display_id FROM ticket")}
    existing, total = len(taken), tickets + sweep_due
    generator = HistoryGenerator(
        reference(conn), rng, time.time(),
        ticket_id=next_id(conn, "ticket"), comment_id=next_id(conn, "comment"), audit_id=next_id(conn, "audit_event"),
        display_ids=display_ids(total, taken, rng), tickets=total,
    )
    counts = {"tickets": 0, "comments": 0, "audit_events": 0}
    # Rebuilding costs about what is already there; below that, row-by-row maintenance is cheaper.
    defer = total >= existing
    started = time.perf_counter()
    with conn.transaction():
        with search_index_from_parts(conn, generator) as searchable, \
                deferred_indexes_and_keys(conn, BULK_TABLES) if defer else nullcontext():
            plan = load_plan(generator, state, tickets, sweep_due)
            for batch in prefetched(planned_batches(generator, plan)):
                _copy_batch(conn, batch, counts, searchable)
                _progress(counts["tickets"], total, started)
        if searchable:
            check_search_vectors(conn, state["page_tickets"])
        for table in BULK_TABLES:
            conn.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), (SELECT max(id) FROM {}))").format(
                sql.Literal(table), sql.Identifier(table)))
    seconds = time.perf_counter() - started
    return {**counts, "seconds": round(seconds, 2), "tickets_per_s": round(counts["tickets"] / seconds) if seconds else 0}


def load_plan(generator: HistoryGenerator, state: dict, tickets: int, sweep_due: int) -> list:
    """(how many, keyword arguments) in load order; the tickets the benchmarks read are made first,
    and noted in `state` with the words the search benchmarks look for."""
    plan = []
    if tickets:
        agent_id, specials = state["agent_id"], min(tickets, PAGE_TICKETS + COMMENT_TICKETS)
        state["page_tickets"] = [generator.ticket(status=OPEN, comments=WORKED_COMMENTS, assignee_id=agent_id)
                                 for _ in range(min(PAGE_TICKETS, specials))]
        state["comment_tickets"] = [generator.ticket(status=OPEN, comments=0, assignee_id=agent_id)
                                    for _ in range(specials - len(state["page_tickets"]))]
        state["search"] = search_words(generator)
        plan.append((tickets - specials, {}))
    plan.append((sweep_due, {"status": RESOLVED, "due": True}))
    return plan


def planned_batches(generator: HistoryGenerator, plan: list):
    """Batches of CHUNK tickets (with their comments and audit rows) following the plan."""
    for count, kwargs in plan:
        done = 0
        while done < count or generator.batch.tickets:
            for _ in range(min(CHUNK - len(generator.batch.tickets), count - done)):
                generator.ticket(**kwargs)
                done += 1
            yield generator.take()


def prefetched(batches, depth: int = 2):
    """Build the next batches in a thread while PostgreSQL ingests the current one."""
    queue: Queue = Queue(maxsize=depth)
    done = object()

    def produce():
        try:
            for batch in batches:
                queue.put(batch)
        finally:
            queue.put(done)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    while (batch := queue.get()) is not done:
        yield batch
    thread.join()


def _copy_batch(conn: psycopg.Connection, batch, counts: dict, searchable: bool) -> None:
    tickets = TICKET_COLUMNS + ("search_vector",) if searchable else TICKET_COLUMNS
    with conn.cursor() as cur:
        for table, columns, rows in (("ticket", tickets, batch.tickets),
                                     ("comment", COMMENT_COLUMNS, batch.comments),
                                     ("audit_event", AUDIT_COLUMNS, batch.audits)):
            copy_rows(cur, table, columns, _types(conn, table, columns), rows)
    counts["tickets"] += len(batch.tickets)
    counts["comments"] += len(batch.comments)
    counts["audit_events"] += len(batch.audits)


@cache
def _types(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> list[int]:
    return column_types(conn, table, columns)


def _progress(done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r  {done:>9,} / {total:,} tickets  {rate:>8,.0f}/s", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


def add_watchers(url: str, state: dict, tickets: int = WATCHED_TICKETS) -> int:
    """Every agent (AGENTS of them) watches `tickets` open tickets the other scenarios leave alone:
    the "comment post: 50 watchers" scenario's fan-out. Once per database."""
    if state.get("watched_tickets"):
        return 0
    taken = state["page_tickets"] + state["comment_tickets"]
    with psycopg.connect(url) as conn:
        chosen = [row[0] for row in conn.execute(
            "SELECT display_id FROM ticket WHERE status = 'OPEN' AND display_id <> ALL(%s) ORDER BY id DESC LIMIT %s",
            (taken, tickets))]
        added = conn.execute(
            "INSERT INTO watch (ticket_id, user_id, created_at) SELECT t.id, u.id, now() FROM ticket t "
            "CROSS JOIN \"user\" u WHERE t.display_id = ANY(%s) AND u.role = 'AGENT' ON CONFLICT DO NOTHING",
            (chosen,)).rowcount
    state["watched_tickets"] = chosen
    return added


def rebuild_rollups(url: str) -> float:
    """Count the report rollups from the loaded tickets (the COPY bypassed the services that keep
    them), as migration 0008 does for an existing database."""
    from webapp.extensions import db
    from webapp.services.report_rollups import rebuild

    started = time.perf_counter()
    with make_app(url).app_context(), db.engine.begin() as conn:
        rebuild(conn)
    return time.perf_counter() - started


def settle(url: str) -> float:
    """Set hint bits and the visibility map, and refresh planner statistics, as autovacuum would;
    then CHECKPOINT, so the load's dirty pages are on disk before anything is measured. (Loading
    1M tickets writes more WAL than max_wal_size: the checkpoint it triggers otherwise spreads its
    writes over the next minutes, and commits measured meanwhile stalled for up to a second.)"""
    started = time.perf_counter()
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) ticket, comment, audit_event, report_day, report_item_day")
        conn.execute("ANALYZE")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("note: no CHECKPOINT (needs a superuser or pg_checkpoint); a spread checkpoint may "
                  "run into the measurements", file=sys.stderr)
    return time.perf_counter() - started


class CpuClock:
    """CPU used by this process and its PostgreSQL backend, and how busy the whole machine was.

    On a shared machine wall-clock rates move with everyone else's load; CPU seconds do not.
    """

    def __init__(self, backend_pid: int):
        self.stat = Path(f"/proc/{backend_pid}/stat")  # absent when PostgreSQL is on another host
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, list[int]]:
        backend = 0.0
        if self.stat.exists():
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
            backend = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return time.process_time(), backend, machine_jiffies()

    def read(self) -> dict:
        (loader0, backend0, machine0), (loader1, backend1, machine1) = self.start, self._sample()
        return {"loader_s": round(loader1 - loader0, 1), "backend_s": round(backend1 - backend0, 1),
                "machine_busy_pct": busy_percent(machine0, machine1)}


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)  # busy: all but idle and iowait


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    return round(100 * (after[0] - before[0]) / max(after[1] - before[1], 1), 1)


def read_state(path: Path) -> dict:
    if not path.exists():
        sys.exit(f"{path} not found: --append needs a database made by this loader (run without --append first)")
    return json.loads(path.read_text())


def write_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")
    path.chmod(0o600)  # it holds an API key, if only a bench one


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--tickets", type=int, default=10_000, help="tickets in the realistic mix (default 10000)")
    parser.add_argument("--sweep-due", type=int, default=0, metavar="N",
                        help="also load N RESOLVED tickets already past the auto-close window")
    parser.add_argument("--append", action="store_true", help="add to the existing bench database")
    parser.add_argument("--drop", action="store_true", help="drop the bench database and exit")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="where the runner's state goes")
    parser.add_argument("--seed", type=int, default=9, help="random seed (same seed, same data)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.database_url = psycopg_url(args.database_url)
    if args.drop:
        drop_database(args.database_url)
        print(f"dropped {database_name(args.database_url)}")
        return 0
    rng = random.Random(args.seed if not args.append else time.time_ns())
    started = time.perf_counter()
    if args.append:
        state = read_state(args.state)
        if state["database_url"] != args.database_url:
            sys.exit(f"{args.state} describes {state['database_url']}, not {args.database_url}")
    else:
        recreate_database(args.database_url)
        state = migrate_and_seed(args.database_url, rng)
    setup = time.perf_counter() - started
    if not args.append:
        print(f"database {database_name(args.database_url)}: schema and reference data in {setup:.1f}s")
    with psycopg.connect(psycopg_url(args.database_url)) as conn:
        cpu = CpuClock(conn.info.backend_pid)
        result = bulk_load(conn, state, tickets=args.tickets, sweep_due=args.sweep_due, rng=rng)
        result["cpu"] = cpu.read()
    watched = add_watchers(args.database_url, state)
    if watched:
        print(f"{watched:,} watches: {len(state['watched_tickets'])} open tickets with every agent watching")
    rollups = rebuild_rollups(args.database_url)
    print(f"report rollups counted from the tickets in {rollups:.1f}s")
    maintenance = settle(args.database_url)
    state["tickets"] += result["tickets"]
    state["loads"].append({**result, "sweep_due": args.sweep_due, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    write_state(args.state, state)
    print(f"loaded {result['tickets']:,} tickets, {result['comments']:,} comments, "
          f"{result['audit_events']:,} audit events in {result['seconds']:.1f}s: "
          f"{result['tickets_per_s']:,} tickets/s")
    print(f"cpu: loader {result['cpu']['loader_s']}s, postgres backend {result['cpu']['backend_s']}s "
          f"(parallel index workers not counted); machine busy {result['cpu']['machine_busy_pct']}%")
    print(f"vacuum + analyze + checkpoint {maintenance:.1f}s; total {time.perf_counter() - started:.1f}s; "
          f"{state['tickets']:,} tickets in the database; state in {args.state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
