"""The RQ worker: `python worker.py` runs queued jobs from REDIS_URL inside the app context."""
import sys

from rq import Worker

from webapp import create_app
from webapp.jobs import QUEUE_NAME, redis_connection


def main() -> int:
    app = create_app()
    with app.app_context():
        connection = redis_connection()
        if connection is None:
            print("REDIS_URL is not set: the embedded mode runs jobs in-process; no worker needed.")
            return 2
        Worker([QUEUE_NAME], connection=connection).work()
    return 0


if __name__ == "__main__":
    sys.exit(main())
