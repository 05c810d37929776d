"""Operator commands: `flask seed`, `flask create-user`, `flask rotate-api-key`, `flask sweep`."""
import secrets
from datetime import datetime, timezone
from itertools import islice

import click
from flask import current_app

from .extensions import db
from .ui.templating import exact_time
from .db.utc import utcnow
from .models import Category, CtiType, Item, Role
from .ops.one_time_secrets import OneTimeSecrets
from .services import ValidationError
from .services import sweep as sweep_service
from .services.demo import DEMO_PASSWORD, seed_demo
from .services.saved_views import seed_builtin_views
from .services.users import create_user, find_user, rotate_api_key

SAMPLE_CTI = {
    "TheWrightServer": {
        "Automation": ["Backup", "Updates", "Certificates"],
        "Media": ["Plex", "Storage"],
        "Networking": ["DNS", "Reverse Proxy", "VPN"],
    },
    "Workplace IT": {
        "Hardware": ["Laptop", "Monitor", "Printer"],
        "Accounts": ["Password Reset", "New Starter", "Access Request"],
    },
    "Facilities": {
        "Office": ["Heating", "Lighting", "Cleaning"],
    },
}


def register(app) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(create_user_command)
    app.cli.add_command(rotate_api_key_command)
    app.cli.add_command(sweep_command)
    app.cli.add_command(rebuild_reports_command)
    app.cli.add_command(health_command)


@click.command("seed")
@click.option("--demo/--no-demo", default=True, show_default=True,
              help="Embedded mode: also a week of demo tickets, once (never with DATABASE_URL set).")
def seed(demo):
    """Create the admin, the goddard service account, a sample CTI tree and the built-in views (idempotent)."""
    created, shown = [], _one_time()
    if find_user("admin") is None:
        embedded = current_app.config["EMBEDDED"]
        password = DEMO_PASSWORD if embedded else secrets.token_urlsafe(12)
        create_user(None, username="admin", display_name="Administrator", role=Role.ADMIN, password=password)
        created.append("admin")
        if embedded:
            click.echo(f"admin password: {password}  (demo default: change it after signing in)")
        else:
            shown.show("admin password", password, "  (shown once; store it now)")
    if find_user("goddard") is None:
        _, key = create_user(None, username="goddard", display_name="Goddard", role=Role.SERVICE)
        created.append("goddard")
        shown.show("goddard API key", key)
    added = _seed_cti()
    if added:
        created.append(f"{added} CTI entries")
    views = seed_builtin_views()
    if views:
        created.append(f"{views} built-in view{'' if views == 1 else 's'}")
    if demo and current_app.config["EMBEDDED"]:
        tickets = seed_demo()
        if tickets:
            created.append(f"{tickets} demo tickets from the past week (agents alice, bob, carol, dev; "
                           f"password {DEMO_PASSWORD})")
    click.echo("Seeded: " + ", ".join(created) if created else "Nothing to seed: already done.")


def _one_time() -> OneTimeSecrets:
    """New passwords and keys: on the terminal, else in a mode-600 file in the instance folder."""
    return OneTimeSecrets(current_app.instance_path)


def _seed_cti() -> int:
    """Add whichever sample categories, types and items are missing."""
    added = 0
    for cat_name, types in SAMPLE_CTI.items():
        category = db.session.scalar(db.select(Category).filter_by(name=cat_name))
        if category is None:
            category = Category(name=cat_name)
            db.session.add(category)
            added += 1
        for type_name, items in types.items():
            cti_type = db.session.scalar(db.select(CtiType).filter_by(category=category, name=type_name))
            if cti_type is None:
                cti_type = CtiType(category=category, name=type_name)
                db.session.add(cti_type)
                added += 1
            for item_name in items:
                if db.session.scalar(db.select(Item).filter_by(type=cti_type, name=item_name)) is None:
                    db.session.add(Item(type=cti_type, name=item_name))
                    added += 1
    db.session.commit()
    return added


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.AGENT.value)
@click.option("--password", help="Password for admins and agents (prompted when omitted).")
def create_user_command(username, display_name, role, password):
    """Create a user; service accounts get an API key, printed once."""
    if role != Role.SERVICE and not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, key = create_user(None, username=username, display_name=display_name or username,
                                role=role, password=password)
    except ValidationError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {user.role} {user.username}.")
    if key:
        _one_time().show(f"{user.username} API key", key)


@click.command("rotate-api-key")
@click.argument("username")
def rotate_api_key_command(username):
    """Replace a user's API key; the old key stops working at once."""
    user = find_user(username)
    if user is None:
        raise click.ClickException(f"No user {username!r}.")
    key = rotate_api_key(None, user)
    _one_time().show(f"{user.username} API key", key)


def _as_of(_ctx, _param, value):
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO date or date-time, e.g. 2026-12-01T09:00Z") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@click.command("sweep")
@click.option("--dry-run", is_flag=True, help="List what would close; change nothing.")
@click.option("--as-of", callback=_as_of, metavar="ISO-DATETIME",
              help="Pretend it is this moment (UTC unless an offset is given).")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Connections closing batches side by side (PostgreSQL; SQLite always uses one).")
def sweep_command(dry_run, as_of, workers):
    """Close RESOLVED tickets older than AUTO_CLOSE_DAYS now (the hourly job does this too)."""
    if as_of is not None and as_of > utcnow() and not dry_run:
        raise click.UsageError("--as-of in the future would close tickets early; add --dry-run to preview.")
    days = current_app.config["AUTO_CLOSE_DAYS"]
    cutoff = sweep_service.cutoff(as_of)
    click.echo(f"Tickets resolved on or before {exact_time(cutoff)} ({days} days before "
               f"{exact_time(as_of or utcnow())}):")
    verb = "would close" if dry_run else "closed"
    if dry_run:
        due = sweep_service.due_tickets(as_of)
        batches = iter(lambda: list(islice(due, sweep_service.BATCH_SIZE)), [])
    else:
        batches = sweep_service.close_due(as_of, workers=workers)
    count = 0
    for batch in batches:  # one write per batch, not per ticket
        count += len(batch)
        click.echo("\n".join(
            f"  {verb} {ticket.display_id}  resolved {exact_time(ticket.resolved_at)}  {ticket.title}"
            for ticket in batch))
    click.echo(f"{'Would close' if dry_run else 'Closed'} {count} ticket{'' if count == 1 else 's'}.")


@click.command("rebuild-reports")
def rebuild_reports_command():
    """Count the report rollups again from the tickets (after a bulk import, or a downgrade and upgrade)."""
    from .services.report_rollups import rebuild

    rebuild(db.session.connection())
    db.session.commit()
    click.echo("Report rollups counted again from the tickets.")


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON (as /readyz carries it)")
def health_command(as_json):
    """Report the background processes and jobs; exit 1 when any is stale, late or failing."""
    import json

    from .jobs import redis_connection
    from .ops.background import report

    found = report(current_app.config, redis_connection())
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        for role, seen in found.get("processes", {}).items():
            age = seen["newestHeartbeatAgeSeconds"]
            click.echo(f"{role}: {seen['alive']} alive" + (f", newest heartbeat {age:.0f}s ago" if age is not None else ""))
        if "queueOldestJobAgeSeconds" in found:
            age = found["queueOldestJobAgeSeconds"]
            click.echo("queue: empty" if age is None else f"queue: oldest job waiting {age:.0f}s")
        for name, job in sorted(found["jobs"].items()):
            click.echo(f"job {name}: last run {job['ageSeconds']:.0f}s ago, {'ok' if job['ok'] else 'FAILED'}"
                       + (f", result {job['result']}" if job["result"] is not None else ""))
        for warning in found["warnings"]:
            click.echo(f"WARNING: {warning}")
        click.echo("healthy" if not found["warnings"] else f"{len(found['warnings'])} warning(s)")
    raise SystemExit(1 if found["warnings"] else 0)
