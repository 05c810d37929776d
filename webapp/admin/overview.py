"""The admin landing page and the log of admin actions."""
from flask import render_template, request

from ..auth.access import ADMIN, access
from ..extensions import db
from ..models import Category, CtiType, Item, User
from ..services.base import parse_id
from . import bp
from .log import KINDS, admin_events, describe

LOG_PAGE = 50
RECENT = 8


@bp.get("")
@access(ADMIN)
def overview():
    return render_template(
        "admin/overview.html",
        accounts=_account_counts(),
        cti=_cti_counts(),
        recent=describe(admin_events(limit=RECENT).items),
    )


def _account_counts() -> dict:
    """Accounts by role and status, in one grouped query over a small table."""
    query = db.select(User.role, User.active, db.func.count()).group_by(User.role, User.active)
    counts = {"inactive": 0}
    for role, active, count in db.session.execute(query):
        if active:
            counts[role] = counts.get(role, 0) + count
        else:
            counts["inactive"] += count
    return counts


def _cti_counts() -> list[tuple[str, int, int]]:
    """(label, active, inactive) per tier of the tree."""
    rows = []
    for label, model in (("Categories", Category), ("Types", CtiType), ("Items", Item)):
        query = db.select(model.active, db.func.count()).group_by(model.active)
        counts = {bool(active): count for active, count in db.session.execute(query)}
        rows.append((label, counts.get(True, 0), counts.get(False, 0)))
    return rows


@bp.get("/log")
@access(ADMIN)
def log():
    kind = request.args.get("kind")
    kind = kind if kind in KINDS else None
    target = parse_id(request.args.get("target")) if kind == "users" else None
    before_id, after_id = parse_id(request.args.get("before")), parse_id(request.args.get("after"))
    page = admin_events(
        kind, target_id=target, before_id=before_id, after_id=after_id, limit=LOG_PAGE,
    )
    return render_template(
        "admin/log.html", entries=describe(page.items), kind=kind, target=target,
        target_user=db.session.get(User, target) if target else None,
        newer=page.prev_before and page.prev_before[0], older=page.next_after and page.next_after[0],
    )

