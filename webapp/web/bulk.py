"""Bulk changes from the queue: the action bar's form, the "all matching this filter" count, and a job's page."""
from dataclasses import replace

from flask import redirect, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.access import STAFF, access
from ..services import ValidationError
from ..services import bulk as bulk_service
from ..services import bulk_jobs
from ..services.base import parse_id, rollback
from ..services.listing import FILTER_ARGS, ME, ListFilter, count_capped
from ..services.tickets import ROUTE_FIELDS
from ..services.users import assignable_users
from ..ui.rendering import render, render_widget, wants_fragment
from . import bp
from .dashboard import VIEWS, queue_page

FILTER_PREFIX = "filter."  # the queue's filters, as the bar's form carries them
UNASSIGN = "none"  # the assignee menu's "Unassigned" (its empty choice changes nothing)
SHOWN_MAX = bulk_service.BULK_MAX  # a larger count shows as "10,000+"
LISTED_MAX = 500  # results listed on a job's page; the API lists every one


@bp.post("/tickets/bulk")
@access(STAFF)
def bulk_change():
    """Apply the bar's changes to the ticked rows (at once, if few) or to all the filter matches (as a job)."""
    form, view = request.form, VIEWS.get(request.form.get("view"), "web.dashboard")
    try:
        changes = bulk_service.clean_changes(form_changes(form))
        if form.get("scope") == "filter":
            job, outcome = bulk_jobs.start_job(current_user, changes, filter_args=_filter_args(form, view),
                                               source="web"), None
        else:
            job, outcome = _start_for_rows(changes, _targets(form.getlist("ticket")))
    except ValidationError as exc:
        rollback()
        return _queue_again(view, status=422, errors=exc.fields, values=form,
                            selected={value.partition(":")[0].upper() for value in form.getlist("ticket")})
    if outcome is not None and wants_fragment():
        return _queue_again(view, job=job, outcome=outcome)
    location = url_for("web.bulk_job", job_id=job.id)
    if wants_fragment():
        return "", 204, {"HX-Redirect": location}
    return redirect(location, 303)


def _start_for_rows(changes, targets) -> tuple:
    """(job, its outcome): a few rows change before the answer; more wait for the job runner (no outcome yet)."""
    if not targets:
        raise ValidationError({"ticket": "Tick at least one ticket, or select all matching this filter."})
    if len(targets) <= bulk_service.INLINE_MAX:
        return bulk_jobs.change_now(current_user, changes, targets)
    return bulk_jobs.start_job(current_user, changes, targets=targets), None


@bp.get("/tickets/bulk/count")
@access(STAFF)
def bulk_count():
    """How many tickets "select all matching" would take (counted no further than the bulk limit)."""
    view = VIEWS.get(request.args.get("view"), "web.dashboard")
    count = count_capped(_view_filter(ListFilter.from_web_args(request.args), view), current_user, SHOWN_MAX + 1)
    return render_widget("web/bulk.html", "matching", count=count, shown_max=SHOWN_MAX)


@bp.get("/tickets/bulk/assignees")
@access(STAFF)
def bulk_assignees():
    """The people the action bar can assign to, for a queue view that has not listed them already."""
    return render_widget("web/bulk.html", "assignees", users=assignable_users())


@bp.get("/bulk/<job_id>")
@access(STAFF)
def bulk_job(job_id):
    """A bulk change's progress (polled by htmx until it is done), then its results."""
    job = bulk_jobs.get_job(current_user, job_id)
    outcome = bulk_jobs.job_outcome(job) if job.finished else None
    back = url_for("web.dashboard", **job.filter_args) if job.filter_source == "web" else url_for("web.dashboard")
    return render("web/bulk.html", "progress", job=job, outcome=outcome, listed_max=LISTED_MAX, back=back,
                  describe=lambda job: bulk_service.describe(bulk_service.Changes.from_json(job.changes)))


def form_changes(form) -> dict:
    """The bar's choices as `update_ticket` changes plus a comment; an empty choice changes nothing."""
    changes = {name: form[name] for name in ("status", "severity") if form.get(name)}
    if form.get("assignee_id"):
        changes["assignee_id"] = None if form["assignee_id"] == UNASSIGN else form["assignee_id"]
    route = [form.get(name, "") for name in ROUTE_FIELDS]
    if any(route):
        changes.update(zip(ROUTE_FIELDS, route))
    if form.get("comment", "").strip():
        changes[bulk_service.COMMENT] = form["comment"]
    return changes


def _targets(values: list[str]) -> list[bulk_service.Target]:
    """The ticked rows: `V#########:version`, the version the row showed."""
    targets = []
    for value in values:
        ref, _, version = value.partition(":")
        targets.append(bulk_service.Target(bulk_service.clean_ref(ref), parse_id(version)))
    return targets


def _view_filter(filters: ListFilter, view: str) -> ListFilter:
    return replace(filters, assignee=ME) if view == "web.my_tickets" else filters


def _filter_args(form, view: str) -> dict:
    """The queue's filter arguments the form carried (as `filter.<name>`, apart from the bar's own
    status and severity), as a job keeps them (My tickets: assigned to me)."""
    args = {name: form.getlist(FILTER_PREFIX + name) for name in FILTER_ARGS if form.getlist(FILTER_PREFIX + name)}
    if view == "web.my_tickets":
        args = {name: values for name, values in args.items() if name not in ("assignee", "assigneeId")}
        args["assignee"] = [ME]
    return args


def _queue_again(view: str, *, status: int = 200, **bulk):
    """The queue page the form was sent from (same filters and page), with the bulk change's answer,
    and the action bar drawn afresh (its errors, or emptied after a change)."""
    form = request.form
    filters = _view_filter(ListFilter.from_web_args(MultiDict(_filter_args(form, "web.dashboard"))), view)
    return queue_page(filters, view, after=form.get("after"), before=form.get("before"), status=status,
                      oob=("bulk_bar",), **bulk)
