"""Database errors name what failed, never the values it failed on: their text ends up in logs.

Every engine hides a statement's bound values (`hide_parameters`, webapp/config.py). PostgreSQL's
own message adds a DETAIL line that repeats them ("Failing row contains (…, pbkdf2:sha256:…, …)",
"Key (…)=(…) already exists"), so for any engine of this process the error keeps only the primary
message (which names the constraint); the DETAIL stays on `exc.orig.diag` for code that asks.
"""
from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "handle_error")
def _drop_detail(context) -> None:
    original = context.original_exception
    diag = getattr(original, "diag", None)
    if not getattr(diag, "message_detail", None):
        return
    primary = diag.message_primary or type(original).__name__
    original.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(original).__module__}.{type(original).__name__}) {primary}",)
