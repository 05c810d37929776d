"""The small bits of markup every list repeats (avatars, SEV and status badges, times), in Python.

Jinja macro calls cost tens of microseconds each; a queue page makes hundreds of them, so these
build their HTML directly, escaping every value that comes from data.
"""
from functools import cache, lru_cache

from flask import g, url_for
from markupsafe import Markup, escape

from ..models import SEVERITY_LABELS
from ..models.ticket import cti_path
from .templating import exact_time, iso_time, relative_time, request_now, status_label


def avatar(user, size: str = "md") -> Markup:
    """Initials on a colour derived from the user; a dash for nobody."""
    if not user:
        return Markup(f'<span class="avatar avatar-{escape(size)} avatar-none" title="Unassigned" '
                      'aria-hidden="true">–</span>')
    return Markup(f'<span class="avatar avatar-{escape(size)} {user.avatar_class}" '
                  f'title="{escape(user.display_name)}" aria-hidden="true">{escape(user.initials)}</span>')


@cache
def sev_badge(severity) -> Markup:
    label, meaning = SEVERITY_LABELS[severity]
    level = escape(severity)
    return Markup(f'<span class="sev sev-{level}" title="SEV {level}: {escape(label)} — {escape(meaning)}">'
                  f'SEV {level}</span>')


@cache
def status_badge(status) -> Markup:
    return Markup(f'<span class="status status-{escape(str(status).lower())}">{escape(status_label(status))}</span>')


def reltime(moment, now=None) -> Markup:
    """A relative time people read at a glance, with the exact time on hover. Nothing to escape:
    all three texts are formatted here from a datetime (digits, English words, `-:+ T`)."""
    return Markup(f'<time datetime="{iso_time(moment)}" title="{exact_time(moment)}">'
                  f'{relative_time(moment, now)}</time>')


_SAMPLE_ID = "V000000000"


def ticket_url(display_id: str) -> str:
    """The ticket page's URL: routed once per request, then filled in for every row of a list."""
    prefix = g.get("ticket_url_prefix")
    if prefix is None:
        prefix = g.ticket_url_prefix = url_for("web.ticket", display_id=_SAMPLE_ID).removesuffix(_SAMPLE_ID)
    return prefix + display_id


def queue_rows(tickets, selected=frozenset()) -> Markup:
    """The dashboard table's rows (services.listing.QueueRow), built in one call per page rather than
    a dozen template expressions per row: the fifty rows were a quarter of the page's time.
    `selected`: the display ids whose bulk-change box is ticked."""
    now, prefix = request_now(), ticket_url("")
    return Markup("".join(_queue_row(t, prefix, now, t.display_id in selected) for t in tickets))


def _queue_row(t, prefix: str, now, ticked: bool = False) -> str:
    href, display_id = escape(prefix + t.display_id), escape(t.display_id)
    who = _who_cell(t.assignee) if t.assignee else _NOBODY_CELL
    return (
        f'<tr class="sev-row-{t.severity:d}" data-id="{display_id}">'
        f'<td class="col-pick"><input type="checkbox" class="pick" name="ticket" form="bulk-form" '
        f'value="{display_id}:{t.version:d}" aria-label="Select {display_id}"{" checked" if ticked else ""}></td>'
        f'<td class="col-id"><a class="mono" href="{href}">{display_id}</a></td>'
        f'<td class="col-title"><a href="{href}">{escape(t.title)}</a>{_snippet(t.snippet)}</td>'
        f'<td class="col-sev">{sev_badge(t.severity)}</td>'
        f'<td class="col-status">{status_badge(t.status)}</td>'
        f'<td class="col-cti">{_cti_cell(t.category, t.type, t.item)}</td>'
        f'<td class="col-assignee">{who}</td>'
        f'<td class="col-age">{reltime(t.created_at, now)}</td></tr>\n'
    )


def _snippet(html: str) -> str:
    """A search result's matching text: services.search.highlight's Markup as it is, anything else escaped."""
    return f'<p class="snippet">{escape(html)}</p>' if html else ""


@lru_cache(maxsize=4096)
def _who_cell(person) -> str:
    """A queue has a few dozen assignees and a few hundred routes: each cell is built once
    (`person`: a frozen services.listing.Person, equal to any other with the same name)."""
    return (f'<span class="who">{avatar(person, "sm")}'
            f'<span class="who-name">{escape(person.display_name)}</span></span>')


@lru_cache(maxsize=4096)
def _cti_cell(category: str, type_: str, item: str) -> str:
    return str(escape(cti_path(category, type_, item)))


_NOBODY_CELL = f'<span class="who muted">{avatar(None, "sm")}<span class="who-name">Unassigned</span></span>'


GLOBALS = {"avatar": avatar, "sev_badge": sev_badge, "status_badge": status_badge, "reltime": reltime,
           "ticket_url": ticket_url, "queue_rows": queue_rows}
