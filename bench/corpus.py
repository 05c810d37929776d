"""The words the bench data is made of: a CTI tree, people, ticket titles, overviews, comments."""
import json
import random

# 10 categories x 4 types x 5 items = 200 items. The first triple is the n8n workflow's
# (TheWrightServer > Automation > Backup), so the API-create body is the real one.
CTI_TREE = {
    "TheWrightServer": {
        "Automation": ["Backup", "Updates", "Certificates", "Cron", "Monitoring"],
        "Media": ["Plex", "Storage", "Transcoding", "Downloads", "Library"],
        "Networking": ["DNS", "Reverse Proxy", "VPN", "Firewall", "DHCP"],
        "Hardware": ["Disks", "UPS", "Fans", "Memory", "Power Supply"],
    },
    "Workplace IT": {
        "Hardware": ["Laptop", "Monitor", "Printer", "Dock", "Headset"],
        "Accounts": ["Password Reset", "New Starter", "Leaver", "Access Request", "MFA"],
        "Software": ["Office Suite", "Browser", "VPN Client", "Licences", "Updates"],
        "Mobile": ["Phone", "Tablet", "Email Sync", "MDM Enrolment", "SIM"],
    },
    "Facilities": {
        "Office": ["Heating", "Lighting", "Cleaning", "Furniture", "Kitchen"],
        "Access": ["Badges", "Doors", "Parking", "Visitors", "Lockers"],
        "Safety": ["Fire Alarm", "First Aid", "Evacuation", "Inspections", "Incidents"],
        "Moves": ["Desk Move", "Team Move", "Storage", "Deliveries", "Disposal"],
    },
    "Platform": {
        "Kubernetes": ["Cluster", "Ingress", "Node Pool", "Operators", "Quotas"],
        "Databases": ["PostgreSQL", "Redis", "Backups", "Replication", "Migrations"],
        "CI/CD": ["Pipelines", "Runners", "Artifacts", "Secrets", "Deploys"],
        "Observability": ["Metrics", "Logs", "Traces", "Alerting", "Dashboards"],
    },
    "Security": {
        "Vulnerabilities": ["Dependency", "Container Image", "Web App", "Host", "Pen Test"],
        "Identity": ["SSO", "Service Accounts", "Permissions", "Offboarding", "Audit"],
        "Endpoint": ["Antivirus", "Disk Encryption", "Patching", "USB Policy", "Firewall"],
        "Incidents": ["Phishing", "Malware", "Data Leak", "Lost Device", "Suspicious Login"],
    },
    "Customer Support": {
        "Orders": ["Missing Order", "Refund", "Cancellation", "Invoice", "Shipping"],
        "Accounts": ["Login", "Billing", "Plan Change", "Data Export", "Closure"],
        "Product": ["Bug Report", "Feature Request", "Documentation", "Integration", "Performance"],
        "Escalations": ["VIP", "Legal", "Press", "Complaint", "Outage"],
    },
    "Finance Systems": {
        "ERP": ["Ledger", "Purchase Orders", "Vendors", "Period Close", "Reports"],
        "Payroll": ["Payslips", "Tax Codes", "Expenses", "Bonuses", "Pensions"],
        "Billing": ["Invoices", "Payment Gateway", "Dunning", "Credit Notes", "Tax Rates"],
        "Procurement": ["Approvals", "Contracts", "Catalogue", "Cards", "Budgets"],
    },
    "HR Systems": {
        "Onboarding": ["Offer Letters", "Equipment", "Induction", "Contracts", "Buddies"],
        "Leave": ["Holiday", "Sickness", "Parental", "Sabbatical", "Overtime"],
        "Performance": ["Reviews", "Goals", "Feedback", "Calibration", "Promotions"],
        "Learning": ["Courses", "Certifications", "Conferences", "Mentoring", "Library"],
    },
    "Data Platform": {
        "Warehouse": ["Loads", "Schemas", "Costs", "Access", "Retention"],
        "Pipelines": ["Airflow", "Streaming", "CDC", "Backfills", "Data Quality"],
        "Reporting": ["BI Dashboards", "Scheduled Reports", "Exports", "Metrics Layer", "Embeds"],
        "ML": ["Training", "Feature Store", "Serving", "Experiments", "Labelling"],
    },
    "Communications": {
        "Email": ["Mailbox", "Distribution Lists", "Spam", "Delivery", "Signatures"],
        "Chat": ["Channels", "Bots", "Integrations", "Retention", "Guests"],
        "Video": ["Meeting Rooms", "Recording", "Webinars", "Licences", "Quality"],
        "Telephony": ["Desk Phones", "Call Queues", "Numbers", "Voicemail", "Contact Centre"],
    },
}

FIRST = ["Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "John",
         "Radia", "Tim", "Sophie", "Guido", "Hedy", "Vint", "Karen", "Edsger", "Shafi", "Donald",
         "Anita", "Bjarne", "Jean", "Niklaus", "Lynn"]
LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie",
        "Allen", "Backus", "Perlman", "Berners-Lee", "Wilson", "van Rossum", "Lamarr", "Cerf",
        "Sparck Jones", "Dijkstra", "Goldwasser", "Knuth", "Borg", "Stroustrup", "Sammet", "Wirth",
        "Conway"]

HOSTS = ["web-01", "web-02", "db-primary", "db-replica", "nas", "plex", "edge-gw", "build-03",
         "k8s-node-7", "mail-relay", "vpn-eu", "printer-2f", "ups-rack-a", "laptop-4411"]

TITLE_TEMPLATES = [
    "{item} not working since this morning",
    "[{type}] {item} alert on {host}",
    "{item}: request for {person}",
    "Intermittent {item} failures for the {team} team",
    "{item} slow after last week's change",
    "[Monitor] {item} check failed on {host}",
    "Please review {item} settings before the audit",
    "{item} broken after update on {host}",
    "New {item} needed for {person}",
    "[{category}] {item} - {stamp}",
    "{item} errors in the logs of {host}",
    "Question about {item} for the {team} team",
]
TEAMS = ["payments", "growth", "platform", "support", "finance", "design", "mobile", "data", "sales"]

OVERVIEW_PARAGRAPHS = [
    "Reported by a user on the {team} team. It started around 09:30 and affects everyone in the office.",
    "Steps to reproduce:\n\n1. Sign in as a normal user\n2. Open the {item} page\n3. Wait about 30 seconds\n\n"
    "Expected the page to load, got a timeout instead.",
    "Monitoring raised this automatically from `{host}`:\n\n```\nCRITICAL: check_{slug} returned 2 "
    "(threshold 1)\n```",
    "Related runbook: https://wiki.example.com/runbooks/{slug}. Last time this happened a restart fixed it.",
    "- [x] checked the status page\n- [x] restarted the client\n- [ ] escalated to the vendor",
    "This blocks the **{team}** release planned for Thursday; please treat it as a priority.",
    "| host | state |\n| --- | --- |\n| {host} | degraded |\n| backup | ok |",
    "No user impact yet, but disk usage on `{host}` grows ~2 % a day and will hit 90 % next week.",
    "Automated nightly {item} job completed with warnings. See the attached log excerpt for details.",
]

COMMENT_BODIES = [
    "Looking into this now.",
    "I can reproduce it on `{host}`. Collecting logs.",
    "Restarted the service; monitoring for the next hour.",
    "Root cause: an expired certificate on {host}. Renewed it and added a reminder.",
    "Could you send a screenshot of the error? Thanks!",
    "Vendor ticket opened: **CASE-{n}**. They promised an answer within 24 h.",
    "Workaround for now:\n\n```\nsudo systemctl restart {slug}\n```",
    "Same here on the {team} team, started after lunch.",
    "Escalating to the on-call engineer, this is getting worse.",
    "Fixed in the latest deploy; please confirm on your side.",
    "Still happening for me, ~1 in 5 requests fail.",
    "- [x] patched {host}\n- [x] verified the health check\n- [ ] update the runbook",
    "Duplicate of the earlier report, merging the details here.",
    "See https://wiki.example.com/runbooks/{slug} for the checklist I followed.",
    "Thanks, that worked. Happy for this to be resolved.",
    "Noted. Will pick this up after the maintenance window on Friday.",
]


# Log-like facts, one closing each overview: hostnames, IPs, error codes, paths and request ids,
# which is what people search tickets for. A pool this large keeps its request ids and IPs rare
# words even at a million tickets (each overview, so each fact, is drawn by one ticket in FACTS).
FACTS = 20_000
HOST_PREFIXES = ["web", "db", "cache", "k8s-node", "build", "edge-gw", "vpn", "mail", "nas", "plex", "printer",
                 "ups-rack", "laptop", "api", "worker"]
ERROR_CODES = ["ERR_CONN_RESET", "ERR_CONN_REFUSED", "ETIMEDOUT", "ECONNREFUSED", "ENOSPC", "EACCES", "HTTP_502",
               "HTTP_504", "SQLSTATE_40001", "SQLSTATE_53300", "OOMKilled", "CrashLoopBackOff", "ImagePullBackOff",
               "ERR_CERT_DATE_INVALID", "SSL_ERROR_SYSCALL", "ORA-01555", "0x80070005", "NT_STATUS_LOGON_FAILURE",
               "ERR_NAME_NOT_RESOLVED", "E_TOO_MANY_REDIRECTS"]
PATHS = ["/var/log/nginx/error.log", "/var/log/syslog", "/var/log/postgresql/postgresql-15-main.log",
         "/etc/ssl/certs/wildcard.pem", "/var/lib/docker/overlay2", "/srv/plex/Library/Application Support",
         "/home/backup/nightly.tar.gz", "/opt/app/releases/current/config.yml", "/var/spool/postfix/deferred",
         "C:\\ProgramData\\VPN\\client.log", "/mnt/nas/media/tv", "/etc/nginx/sites-enabled/default"]
FACT_TEMPLATES = [
    "{host} ({ip}) logged {code} in {path} (request {request}).",
    "Seen from {ip}: `{code}` on {host}; details in `{path}`, request id {request}.",
    "Alert {code} for {host} at {ip}, see {path} - trace {request}",
    "{code} again on {host} ({ip}) after the {hour}:00 run; log: {path}; request {request}",
]
COMMON_WORD = "restart"  # in about half the tickets (overviews and comments say restart, restarted)


def facts(rng: random.Random, count: int = FACTS) -> list[str]:
    """Log-like lines, each naming a host, an IP, an error code, a path and a request id."""
    return [rng.choice(FACT_TEMPLATES).format(
        host=f"{rng.choice(HOST_PREFIXES)}-{rng.randrange(1, 41):02d}",
        ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
        code=rng.choice(ERROR_CODES), path=rng.choice(PATHS), request=f"{rng.getrandbits(32):08x}",
        hour=f"{rng.randrange(24):02d}") for _ in range(count)]


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def people(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(username, display name) for the bench agents: agent01..agentNN with varied names."""
    names = [f"{first} {last}" for first in FIRST for last in LAST]
    rng.shuffle(names)
    return [(f"agent{n:02d}", names[n - 1]) for n in range(1, count + 1)]


def fill(template: str, rng: random.Random, **known) -> str:
    values = {
        "host": rng.choice(HOSTS), "team": rng.choice(TEAMS), "n": rng.randrange(10000, 99999),
        "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "item": "the service", "slug": "service",
        "stamp": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T02:00:00",
        "type": "General", "category": "General",
    }
    values.update(known)
    return template.format(**values)


def titles_for(path: tuple[str, str, str], rng: random.Random, count: int) -> list[str]:
    category, type_name, item = path
    return [
        fill(rng.choice(TITLE_TEMPLATES), rng, category=category, type=type_name, item=item, slug=slug(item))
        for _ in range(count)
    ]


def overviews(rng: random.Random, count: int) -> list[str]:
    """Markdown overviews of one to four paragraphs."""
    result = []
    for _ in range(count):
        paragraphs = rng.sample(OVERVIEW_PARAGRAPHS, rng.randint(1, 4))
        item = rng.choice(["VPN", "Backup", "Printer", "SSO", "Plex", "Payroll"])
        result.append("\n\n".join(fill(p, rng, item=item, slug=slug(item)) for p in paragraphs))
    return result


def comment_bodies(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(body, body as a JSON string) pairs; the JSON form goes straight into audit rows."""
    result = []
    for _ in range(count):
        body = fill(rng.choice(COMMENT_BODIES), rng, slug=rng.choice(["nginx", "plex", "backup", "vpn"]))
        result.append((body, json.dumps(body)))
    return result
