"""Bulk changes: POST /api/tickets/bulk changes a few listed tickets at once (200), and more of them,
or every ticket a filter matches, as a job (202) whose progress and results GET /api/bulk/{job} shows."""
from contextlib import contextmanager

from flask import jsonify, request, url_for

from ..auth.access import API, access, api_user
from ..services import ValidationError
from ..services import bulk as bulk_service
from ..services import bulk_jobs
from ..services.base import parse_id
from ..services.text import text_fault
from . import bp
from .errors import api_fields
from .idempotency import idempotent
from .parsing import field_errors, json_object
from .serializers import iso
from .tickets import PATCH_FIELDS

COMMENT = bulk_service.COMMENT
CHANGE_FIELDS = {**PATCH_FIELDS, COMMENT: COMMENT}  # API name -> the service's
CHANGE_NAMES = {service: name for name, service in CHANGE_FIELDS.items()}  # and back
TARGET_FIELDS = {"ticket", "version"}
REPORTED_MAX = 20  # bad entries named in one 422


# OPTIONS is answered here: left to Flask, its Allow would also list the GET and PATCH of
# /tickets/<ref>, whose rule matches this path as well.
@bp.route("/tickets/bulk", methods=["POST", "OPTIONS"])
@access(API)
def bulk_tickets():
    """Change many tickets: up to INLINE_MAX listed ones now (200); more, or a filter's, as a job (202)."""
    if request.method == "OPTIONS":
        return "", 200, {"Allow": "OPTIONS, POST"}
    return _bulk_change()


@idempotent
def _bulk_change():
    body = json_object({"tickets", "filter", "changes"})
    if ("tickets" in body) == ("filter" in body):
        both = "tickets" in body
        message = ("Give either `tickets` (a list of display ids) or `filter` (the filters of GET /api/tickets), "
                   + ("not both." if both else "one of them."))
        raise ValidationError({"tickets": message, **({"filter": message} if both else {})})
    targets = _targets(body["tickets"]) if "tickets" in body else None
    filter_args = _filter_args(body["filter"]) if "filter" in body else None
    raw_changes = _changes(body.get("changes"))
    with _named("changes."):
        changes = bulk_service.clean_changes(raw_changes)
    if targets is not None and len(targets) <= bulk_service.INLINE_MAX:
        return jsonify(outcome_json(bulk_jobs.change_now(api_user(), changes, targets)[1]))
    with _named("filter."):
        job = bulk_jobs.start_job(api_user(), changes, targets=targets, filter_args=filter_args, source="api")
    answer = job_json(job)
    return jsonify(answer), 202, {"Location": answer["url"]}


@bp.get("/bulk/<job>")
@access(API)
def get_bulk_job(job):
    """A bulk job's progress, and the results so far (all of them once `status` is done)."""
    return jsonify(job_json(bulk_jobs.get_job(api_user(), job)))


@contextmanager
def _named(prefix: str):
    """Refusals of one part of the body, named inside it (`changes.status`, `filter.severity`)."""
    try:
        yield
    except ValidationError as exc:
        fields = {name if name in ("changes", "filter") else prefix + name: text
                  for name, text in api_fields(exc.fields).items()}
        raise ValidationError(fields) from None


def _targets(value) -> list[bulk_service.Target]:
    if not isinstance(value, list) or not value:
        raise ValidationError({"tickets": "Give a non-empty list of display ids, e.g. [\"V325813929\"]."})
    bulk_service.check_size(len(value))
    targets, errors = [], {}
    for index, entry in enumerate(value):
        try:
            targets.append(_target(entry))
        except ValidationError as exc:
            if len(errors) < REPORTED_MAX:
                errors.update({f"tickets[{index}]{'' if name == 'ticket' else '.' + name}": text
                               for name, text in exc.fields.items()})
    if errors:
        raise ValidationError(errors)
    return targets


def _target(entry) -> bulk_service.Target:
    """"V…", or {"ticket": "V…", "version": 3} to refuse the change if the ticket moved on since."""
    if not isinstance(entry, dict):
        return bulk_service.Target(bulk_service.clean_ref(entry))
    if set(entry) - TARGET_FIELDS or "ticket" not in entry:
        raise ValidationError({"ticket": "Give {\"ticket\": \"V…\"} and, optionally, \"version\"."})
    version = entry.get("version")
    if version is not None and (version := parse_id(version)) is None:
        raise ValidationError({"version": "The version must be a whole number, as returned with the ticket."})
    return bulk_service.Target(bulk_service.clean_ref(entry["ticket"]), version)


def _changes(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError({"changes": "Give the changes as an object, e.g. {\"status\": \"RESOLVED\"}."})
    if errors := field_errors(value, CHANGE_FIELDS):
        raise ValidationError({f"changes.{name}": text for name, text in errors.items()})
    return {CHANGE_FIELDS[name]: field_value for name, field_value in value.items()}


def _filter_args(value) -> dict:
    """The filter object as query arguments ({name: [text, ...]}), as GET /api/tickets reads them."""
    if not isinstance(value, dict):
        raise ValidationError({"filter": "Give the filter as an object, e.g. {\"status\": \"OPEN\", \"severity\": 5}."})
    args, errors = {}, {}
    for name, given in value.items():
        values = given if isinstance(given, list) else [given]
        if not all(_query_value(item) for item in values):
            errors[f"filter.{name}"] = "Give text, a whole number, or a list of them."
        else:
            args[name] = [str(item) for item in values]
    if errors:
        raise ValidationError(errors)
    return args


def _query_value(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and text_fault(value) is None)


def failure_json(failure: bulk_service.Failure) -> dict:
    return {"ticket": failure.ticket, "error": {**failure.error, "fields": api_fields(failure.fields)}}


def outcome_json(outcome: bulk_service.Outcome) -> dict:
    return {"updated": outcome.updated, "failed": [failure_json(failure) for failure in outcome.failed]}


def job_json(job) -> dict:
    """A job as the API shows it: what it does, how far it got, and its results so far."""
    return {
        "id": str(job.id),
        "url": url_for("api.get_bulk_job", job=job.id, _external=True),
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "failedCount": job.failed,
        "changes": {CHANGE_NAMES.get(name, name): value for name, value in job.changes.items()},
        "filter": job.filter_args,
        "error": job.error,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        **outcome_json(bulk_jobs.job_outcome(job)),
    }
