"""The inbox, watching a ticket, @mention suggestions, and the one-click unsubscribe a mail links to."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import PUBLIC, STAFF, access
from ..extensions import csrf, db
from ..models import User
from ..services import inbox, mail_message, mentions, notify_prefs, profile, watchers
from ..services.listing import decode_cursor
from ..ui.rendering import render, render_widget, wants_fragment
from . import bp
from .ticket_page import respond, ticket_from_url

WATCH_AFFECTED = ("audit", "audit_count", "flash")


@bp.get("/notifications")
@access(STAFF)
def notifications():
    unread_only = request.args.get("unread") == "1"
    after = decode_cursor(inbox.INBOX, request.args.get("after"), width=1)
    found = inbox.page(current_user, after=after, unread_only=unread_only)
    return render("web/notifications.html", "inbox", page=found, unread_only=unread_only,
                  unread=inbox.unread_count(current_user))


@bp.post("/notifications/<int:notification_id>/read")
@access(STAFF)
def read_notification(notification_id):
    inbox.mark_read(current_user, inbox.get(current_user, notification_id))
    return _back_to_inbox()


@bp.post("/notifications/read-all")
@access(STAFF)
def read_all_notifications():
    marked = inbox.mark_all_read(current_user)
    flash(f"Marked {marked} notification{'s' if marked != 1 else ''} read." if marked else "Nothing unread.", "info")
    return _back_to_inbox()


def _back_to_inbox():
    unread_only = request.form.get("unread") == "1"
    if wants_fragment():
        found = inbox.page(current_user, unread_only=unread_only)
        return render("web/notifications.html", "inbox", oob=("unread_badge",), page=found,
                      unread_only=unread_only, unread=inbox.unread_count(current_user))
    return redirect(url_for("web.notifications", unread="1" if unread_only else None), 303)


@bp.post("/tickets/<display_id>/watch")
@access(STAFF)
def watch_ticket(display_id):
    return _set_watching(display_id, True)


@bp.post("/tickets/<display_id>/unwatch")
@access(STAFF)
def unwatch_ticket(display_id):
    return _set_watching(display_id, False)


WATCH_MESSAGES = {True: ("You are watching this ticket.", "You were already watching."),
                  False: ("You stopped watching this ticket.", "You were not watching.")}


def _set_watching(display_id: str, on: bool):
    """Watch or unwatch; the sidebar answers, with the audit tab and its count out of band."""
    ticket = ticket_from_url(display_id)
    changed = (watchers.watch if on else watchers.unwatch)(current_user, ticket)
    done, already = WATCH_MESSAGES[on]
    return respond(ticket, "sidebar", affected=WATCH_AFFECTED, message=done if changed else already)


@bp.get("/mentions")
@access(STAFF)
def mention_suggestions():
    """The @mention autocomplete's options: active admins and agents matching what was typed."""
    people = mentions.suggestions(request.args.get("q", ""))
    return render_widget("web/_mentions.html", "suggestions", people=people)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential: mail clients POST it without a session (RFC 8058)
@access(PUBLIC)
def unsubscribe(token):
    found = mail_message.read_unsubscribe_token(token)
    person = db.session.get(User, found[0]) if found else None
    if person is None or not person.active:
        abort(404)
    reason = found[1]
    label = notify_prefs.REASONS[notify_prefs.Reason(reason)]
    if request.method == "POST":
        if notify_prefs.modes(person)[notify_prefs.Reason(reason)] in (notify_prefs.EMAIL, notify_prefs.DIGEST):
            profile.set_notification_modes(person, {reason: notify_prefs.INAPP})  # audited, as from the profile
        return render_template("web/unsubscribed.html", label=label, done=True, token=token)
    return render_template("web/unsubscribed.html", label=label, done=False, token=token)
