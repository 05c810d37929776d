"""SQLite connection settings for the embedded mode (PostgreSQL connections are left alone)."""
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait instead of failing on locks."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # let SQLAlchemy issue BEGIN (savepoints work)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: take the write lock up front. A deferred BEGIN that reads, then writes after another
    thread's commit (a request beside an in-process job) fails at once with "database is locked";
    an IMMEDIATE one waits its turn under busy_timeout instead. A connection may ask for a plain
    deferred BEGIN with the execution option sqlite_begin="DEFERRED" (the test harness does)."""
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")
