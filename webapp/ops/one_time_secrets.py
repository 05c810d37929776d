"""Where an operator command puts a secret it just made (a password, an API key): shown once, never logged.

On a terminal it is printed there. Otherwise stdout is going somewhere that keeps it (a pipe, a
file, CI or container logs), so the secret goes into a new file only the operator can read
(mode 600) and the output says which file, without the secret.
"""
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


class OneTimeSecrets:
    """The secrets of one command run: on the terminal, or all in one mode-600 file under `directory`."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.path: Path | None = None

    def show(self, label: str, secret: str, note: str = "") -> None:
        """`label: secret` on the terminal (with `note`), or appended to this run's file."""
        if stdout_is_terminal():
            click.echo(f"{label}: {secret}{note}")
            return
        path = self.path or self._new_file()
        with path.open("a", encoding="utf-8") as kept:
            kept.write(f"{label}: {secret}\n")
        click.echo(f"{label}: written to {path} (readable by you only; store it, then delete the file)")

    def _new_file(self) -> Path:
        """Created with mode 600 from the start (mkstemp), in the instance folder if it can be written."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        writable = self.directory.is_dir() and os.access(self.directory, os.W_OK)
        handle, name = tempfile.mkstemp(prefix=f"secrets-{stamp}-", suffix=".txt",
                                        dir=self.directory if writable else None)
        os.close(handle)
        self.path = Path(name)
        return self.path
