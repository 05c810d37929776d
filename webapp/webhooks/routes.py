"""Webhook admin views: parse the form, call one service, render or redirect."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.access import ADMIN, access
from ..models import DeliveryStatus
from ..services import ValidationError
from ..services import webhooks as service
from ..ui.rendering import render_partial, wants_fragment
from . import bp


def _submitted() -> dict:
    form = request.form
    return {
        "name": form.get("name", ""), "url": form.get("url", ""), "secret": form.get("secret", ""),
        "events": form.getlist("events"), "active": form.get("active") == "on",
    }


def _form_page(values: dict, errors: dict, hook=None, status: int = 200):
    return render_template(
        "webhooks/form.html", values=values, errors=errors, webhook=hook,
        event_choices=service.EVENT_CHOICES,
    ), status


@bp.get("")
@access(ADMIN)
def index():
    return render_template(
        "webhooks/index.html", webhooks=service.list_webhooks(), counts=service.open_counts(),
        event_labels=dict(service.EVENT_CHOICES),
    )


@bp.route("/new", methods=["GET", "POST"])
@access(ADMIN)
def new():
    if request.method == "GET":
        blank = {"name": "", "url": "", "secret": service.new_secret(), "events": [], "active": True}
        return _form_page(blank, {})
    values = _submitted()
    try:
        hook = service.create_webhook(current_user, **values)
    except ValidationError as exc:
        return _form_page(values, exc.fields, status=422)
    flash(f"Webhook “{hook.name}” created. New audit events will be delivered to it.", "success")
    return redirect(url_for(".detail", webhook_id=hook.id), 303)


@bp.route("/<int:webhook_id>/edit", methods=["GET", "POST"])
@access(ADMIN)
def edit(webhook_id: int):
    hook = service.get_webhook(webhook_id)
    if request.method == "GET":
        current = {"name": hook.name, "url": hook.url, "secret": "", "events": hook.events, "active": hook.active}
        return _form_page(current, {}, hook)
    values = _submitted()
    try:
        service.update_webhook(current_user, hook, **values)
    except ValidationError as exc:
        return _form_page(values, exc.fields, hook, status=422)
    flash(f"Webhook “{hook.name}” saved.", "success")
    return redirect(url_for(".detail", webhook_id=hook.id), 303)


@bp.get("/<int:webhook_id>")
@access(ADMIN)
def detail(webhook_id: int):
    hook = service.get_webhook(webhook_id)
    status = request.args.get("status") or None
    page = service.recent_deliveries(hook, status=status, before_id=request.args.get("before"))
    return render_template(
        "webhooks/detail.html", webhook=hook, deliveries=page.items, status_filter=status,
        statuses=list(DeliveryStatus), counts=service.open_counts(hook.id).get(hook.id, {}),
        event_labels=dict(service.EVENT_CHOICES),
        older=page.next_after and page.next_after[0],
    )


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver")
@access(ADMIN)
def redeliver(webhook_id: int, delivery_id: int):
    hook = service.get_webhook(webhook_id)
    delivery = service.redeliver(service.get_delivery(hook, delivery_id))
    flash(f"Delivery #{delivery.id} queued again with a fresh set of attempts.", "success")
    return redirect(url_for(".detail", webhook_id=hook.id), 303)


@bp.post("/<int:webhook_id>/test")
@access(ADMIN)
def send_test(webhook_id: int):
    """Send a test event now and show what the receiver answered (in place for htmx)."""
    hook = service.get_webhook(webhook_id)
    answer = service.send_test(current_user, hook)
    if wants_fragment():
        return render_partial("webhooks/_test_answer.html", answer=answer)
    flash(f"Test event sent. {'Receiver answered' if answer.ok else 'Not delivered'}: {answer.text}",
          "success" if answer.ok else "error")
    return redirect(url_for(".detail", webhook_id=hook.id), 303)
