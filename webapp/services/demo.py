"""A realistic past week of tickets for the embedded mode, written through the real services.

Every ticket, comment, assignment and status change is a service call made with the time injected
(db.utc.pretend_now), so the audit trail, the outbox and every derived time are exactly what the
app itself would have written had people worked that week. Random but repeatable (a fixed seed).
"""
import io
import random
from datetime import timedelta

import sqlalchemy as sa

from ..db.utc import pretend_now, utcnow
from ..extensions import db
from ..models import Category, CtiType, Item, Role, Status, Ticket
from . import attachments, comments, tickets
from .attachment_files import Upload
from .users import create_user, find_user

DEMO_PASSWORD = "admin123"  # the embedded mode's demo admin has it too (cli.seed)

AGENTS = (("alice", "Alice Nguyen"), ("bob", "Bob Okafor"), ("carol", "Carol Díaz"), ("dev", "Dev Patel"))
TICKET_COUNT = 72  # more than a page (50), so paging shows at once
SEVERITY_WEIGHTS = {1: 4, 2: 10, 3: 30, 4: 30, 5: 26}
# Where each ticket ends up: every status, most still being worked.
OUTCOMES = {Status.OPEN: 30, Status.IN_PROGRESS: 22, Status.RESOLVED: 12, Status.CLOSED: 8}

# (category, type, item) -> titles people would file there.
TITLES = {
    ("TheWrightServer", "Automation", "Backup"): ["Nightly Plex backup failed: disk full", "Backup job ran 3 h over its window"],
    ("TheWrightServer", "Automation", "Updates"): ["Unattended upgrades held back 14 packages", "Kernel update needs a reboot"],
    ("TheWrightServer", "Automation", "Certificates"): ["TLS certificate for media.example.net expires in 7 days"],
    ("TheWrightServer", "Media", "Plex"): ["Plex transcoding stutters on 4K files", "Plex library scan stuck at 63 %"],
    ("TheWrightServer", "Media", "Storage"): ["RAID array degraded: disk 3 SMART errors", "Media share at 91 % capacity"],
    ("TheWrightServer", "Networking", "DNS"): ["Internal names resolve slowly from the guest Wi-Fi"],
    ("TheWrightServer", "Networking", "Reverse Proxy"): ["502 from the reverse proxy for /grafana"],
    ("TheWrightServer", "Networking", "VPN"): ["VPN drops every 20 minutes on macOS"],
    ("Workplace IT", "Hardware", "Laptop"): ["Laptop battery swells, lid does not close", "New laptop for the design intern"],
    ("Workplace IT", "Hardware", "Monitor"): ["Second monitor flickers over USB-C dock"],
    ("Workplace IT", "Hardware", "Printer"): ["Printer on floor 2 jams on every duplex job", "Toner low on the colour printer"],
    ("Workplace IT", "Accounts", "Password Reset"): ["Locked out after the password change", "Reset MFA for a lost phone"],
    ("Workplace IT", "Accounts", "New Starter"): ["Accounts for the new starter on Monday"],
    ("Workplace IT", "Accounts", "Access Request"): ["Read access to the finance share", "Add me to the on-call calendar"],
    ("Facilities", "Office", "Heating"): ["Meeting room B is 14 °C in the morning"],
    ("Facilities", "Office", "Lighting"): ["Corridor lights flicker near the kitchen"],
    ("Facilities", "Office", "Cleaning"): ["Kitchen sink blocked again"],
}
OVERVIEW = """{what}

**Seen since:** {since}

**Affects:** {who}

Steps so far:
- [x] Checked the obvious (cables, power, status page)
- [ ] Reproduce on a second machine
- [ ] Decide on a fix

| Where | What we saw |
| --- | --- |
| {where} | `{log}` |
"""
COMMENTS = [
    "Looking into it now.",
    "Reproduced: it happens every time after ~15 minutes. Logs:\n\n```\n{log}\n```",
    "Could this be related to last week's change? See the **Audit Log** of the earlier ticket.",
    "Ordered a replacement part; ETA *Thursday*.",
    "Workaround for now:\n\n1. Restart the service\n2. Clear the cache\n3. ~~Reboot~~ not needed",
    "Confirmed fixed on my side, thanks!",
    "Checked with the vendor: known issue, patch in the next release. https://example.com/kb/4711",
    "@{peer} you fixed something like this last month: can you have a look?",
    "Escalating to @admin: we need a decision on the replacement budget.",
]
FIX = "Fixed: applied the change and watched it for an hour; no errors since."


def seed_demo(rng: random.Random | None = None) -> int:
    """Fill an empty database with a week of tickets; returns how many (0 if any ticket exists)."""
    if db.session.scalar(sa.select(Ticket.id).limit(1)) is not None:
        return 0
    rng = rng or random.Random(23)
    now = utcnow()
    start = now - timedelta(days=7)
    people = _agents(start)
    robot = find_user("goddard")
    routes = _routes()
    outcomes = [status for status, count in OUTCOMES.items() for _ in range(count)]
    rng.shuffle(outcomes)
    for number in range(TICKET_COUNT):
        opened = start + timedelta(minutes=rng.randrange(10, 7 * 24 * 60 - 120))
        _one_ticket(rng, opened, now, outcomes[number % len(outcomes)], people, robot, routes)
    return TICKET_COUNT


def _agents(at) -> list:
    """The demo team (password: the demo admin's), created as if a week ago."""
    people = []
    for username, name in AGENTS:
        user = find_user(username)
        if user is None:
            with pretend_now(at):
                user, _ = create_user(None, username=username, display_name=name, role=Role.AGENT,
                                      password=DEMO_PASSWORD)
        people.append(user)
    return people


def _routes() -> list[tuple]:
    """(category, type, item, titles) for every sample route the tree has."""
    rows = db.session.execute(
        sa.select(Category, CtiType, Item).join(CtiType, CtiType.category_id == Category.id)
        .join(Item, Item.type_id == CtiType.id)
    ).all()
    return [(c, t, i, TITLES[(c.name, t.name, i.name)]) for c, t, i in rows if (c.name, t.name, i.name) in TITLES]


def _one_ticket(rng, opened, now, outcome, people, robot, routes) -> None:
    """File one ticket at `opened`, then walk it towards `outcome`, each step a little later."""
    category, cti_type, item, titles = rng.choice(routes)
    automated = category.name == "TheWrightServer" and cti_type.name == "Automation" and robot is not None
    creator = robot if automated else rng.choice(people)
    severity = 5 if automated and rng.random() < .6 else _severity(rng)
    title = rng.choice(titles)
    log = rng.choice(["ENOSPC: no space left on device", "connection reset by peer", "HTTP 502 upstream timed out",
                      "SMART 5 Reallocated_Sector_Ct 112", "E: held back: linux-image"])
    overview = OVERVIEW.format(what=f"{title}.", since=opened.strftime("%A %H:%M"),
                               who=rng.choice(["just me", "the whole team", "everyone on floor 2", "the nightly jobs"]),
                               where=item.name, log=log)
    clock = _Clock(rng, opened, now)
    with pretend_now(clock.at):
        ticket = tickets.create_ticket(creator, title=title, overview=overview, severity=severity,
                                       category_id=category.id, type_id=cti_type.id, item_id=item.id)
    if rng.random() < .3:
        clock.step(lambda: attachments.add_attachments(creator, ticket, [_log_file(item.name, log, clock.at)]))
    worker = rng.choice(people)
    if outcome != Status.OPEN or rng.random() < .5:
        clock.step(lambda: tickets.assign(worker, ticket, worker.id))
    if rng.random() < .25:
        clock.step(lambda: tickets.change_severity(worker, ticket, max(1, min(5, severity + rng.choice((-1, 1))))))
    for _ in range(rng.randrange(0, 4)):
        author = rng.choice([worker, creator if creator.role != Role.SERVICE else worker, rng.choice(people)])
        body = rng.choice(COMMENTS).format(log=log, peer=rng.choice([p for p in people if p is not author]).username)
        clock.step(lambda: comments.add_comment(author, ticket, body))
    if outcome == Status.OPEN:
        return
    clock.step(lambda: tickets.change_status(worker, ticket, Status.IN_PROGRESS))
    if outcome == Status.IN_PROGRESS:
        return
    clock.step(lambda: comments.add_comment(worker, ticket, FIX))
    clock.step(lambda: tickets.change_status(worker, ticket, Status.RESOLVED))
    if outcome == Status.CLOSED:
        clock.step(lambda: tickets.change_status(worker, ticket, Status.CLOSED))


def _log_file(name: str, line: str, at) -> Upload:
    """A small log excerpt as a file, as people attach them."""
    text = "".join(f"{(at - timedelta(seconds=17 * n)):%Y-%m-%dT%H:%M:%S}Z {name.lower()}: {line}\n" for n in range(40, 0, -1))
    return Upload(f"{name.lower().replace(' ', '-')}.log", "text/plain", io.BytesIO(text.encode()))


def _severity(rng) -> int:
    return rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()))[0]


class _Clock:
    """A ticket's own time line: each step happens minutes to hours after the last, never after now."""

    def __init__(self, rng, start, now):
        self.rng, self.at, self.latest = rng, start, now - timedelta(minutes=1)

    def step(self, action) -> None:
        later = self.at + timedelta(minutes=self.rng.randrange(4, 9 * 60))
        self.at = min(later, self.latest)
        with pretend_now(self.at):
            action()
