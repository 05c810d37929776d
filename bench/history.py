"""Generate ticket histories as plain row tuples, consistent with the app's rules, fast enough for COPY."""
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

import corpus

DAY = 86400.0
HOUR = 3600.0
YEARS_2 = 730 * DAY
AUTO_CLOSE = 14 * DAY

OPEN, IN_PROGRESS, RESOLVED, CLOSED = "OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"
STATUS_MIX = ((OPEN, IN_PROGRESS, RESOLVED, CLOSED), (40, 5, 20, 35))
SEVERITY_MIX = ((1, 2, 3, 4, 5), (3, 10, 50, 25, 12))
COMMENTED_SHARE = 0.10
OVERDUE_RESOLVED_SHARE = 0.10  # RESOLVED tickets the hourly sweep has not closed yet
SWEEP_CLOSED_SHARE = 0.7       # CLOSED by the sweep (actor: the system) rather than by an agent
SERVICE_CREATED_SHARE = 0.4    # automation files this share of tickets

TICKET_COLUMNS = ("id", "display_id", "title", "overview", "severity", "status", "category_id", "type_id",
                  "item_id", "assignee_id", "creator_id", "created_at", "updated_at", "resolved_at",
                  "closed_at", "version")
COMMENT_COLUMNS = ("id", "ticket_id", "author_id", "body", "created_at")
WORKED_COMMENTS = 20  # the comments of a "worked" ticket (the ticket-page benchmarks read these)
THREADS_PER_LENGTH = 50  # comment threads of each length, 1 to WORKED_COMMENTS
AUDIT_COLUMNS = ("id", "ticket_id", "actor_id", "action", "before", "after", "created_at")
JSON_STATUS = {s: json.dumps(s) for s in (OPEN, IN_PROGRESS, RESOLVED, CLOSED)}


@dataclass
class Reference:
    """What tickets point at: the people and the CTI tree, as loaded into the database."""

    agents: list[tuple[int, str]]           # (id, display name)
    service_id: int
    items: list[tuple[int, int, int, str]]  # (category id, type id, item id, "Cat › Type › Item")


@dataclass
class Batch:
    tickets: list = field(default_factory=list)
    comments: list = field(default_factory=list)
    audits: list = field(default_factory=list)


class HistoryGenerator:
    """Builds tickets with their comments and audit rows; ids come from reserved blocks.

    A ticket's words are one of a pool of documents of its item: a title, an overview (paragraphs
    and a fact line, corpus.facts) and a comment thread or none. `tickets` (how many this load
    makes) sizes the pools so their words stay as rare at any size. Set `doc_vectors` (one search
    vector per document, PostgreSQL's binary tsvector) and each ticket row ends with its vector.
    """

    def __init__(self, ref: Reference, rng: random.Random, now: float, *, ticket_id: int, comment_id: int,
                 audit_id: int, display_ids, tickets: int = 1_000_000):
        self.ref, self.rng, self.now = ref, rng, now
        self.next_ticket, self.next_comment, self.next_audit = ticket_id, comment_id, audit_id
        self.display_ids = iter(display_ids)
        self.batch = Batch()
        self.agent_ids = [agent_id for agent_id, _ in ref.agents]
        self.user_json = {agent_id: json.dumps({"id": agent_id, "name": name}) for agent_id, name in ref.agents}
        self.cti_json = [
            json.dumps({"categoryId": c, "typeId": t, "itemId": i, "path": path}) for c, t, i, path in ref.items
        ]
        self.titles = [
            [(title, json.dumps(title)) for title in corpus.titles_for(tuple(path.split(" › ")), rng, 12)]
            for *_, path in ref.items
        ]
        paragraphs = corpus.overviews(rng, 300)
        facts = corpus.facts(rng, min(corpus.FACTS, max(1_000, tickets // 50)))
        self.overviews = [f"{rng.choice(paragraphs)}\n\n{fact}" for fact in facts]
        self.comment_pool = corpus.comment_bodies(rng, 400)
        self.threads = [[]] + [[[rng.randrange(len(self.comment_pool)) for _ in range(length)]
                                for _ in range(THREADS_PER_LENGTH)] for length in range(1, WORKED_COMMENTS + 1)]
        self.docs, self.doc_kinds = self._documents(min(200, max(20, tickets // 5_000)))
        self.doc_vectors = None
        # Pre-drawn choices: random.choices once per ticket is the slowest thing in the loop.
        self.statuses = rng.choices(*STATUS_MIX, k=100_003)
        self.severities = rng.choices(*SEVERITY_MIX, k=100_019)
        self.draw = 0

    def _documents(self, plain: int) -> tuple[list, list]:
        """(item, title, overview, thread length, thread) per document, and per item the ids of its
        documents by kind: without comments, with 1 to 20, and worked (WORKED_COMMENTS)."""
        rng, docs, kinds = self.rng, [], []
        for item, titles in enumerate(self.titles):
            commented = [rng.randint(1, WORKED_COMMENTS) for _ in range(plain // 8 + 1)]
            lengths = {"plain": [0] * plain, "commented": commented, "worked": [WORKED_COMMENTS]}
            kinds.append({})
            for kind, sizes in lengths.items():
                kinds[-1][kind] = list(range(len(docs), len(docs) + len(sizes)))
                docs += [(item, rng.randrange(len(titles)), rng.randrange(len(self.overviews)), size,
                          rng.randrange(THREADS_PER_LENGTH)) for size in sizes]
        return docs, kinds

    def search_parts(self) -> tuple[list, list]:
        """What the documents are made of, to be tokenized once each (bench/load.py): (part id, text,
        weight) rows, and (document id, title part, overview part, thread part or None) rows."""
        titles = [(title, "A") for titles in self.titles for title, _ in titles]
        threads = [("\n".join(self.comment_pool[pick][0] for pick in thread), "C")  # as the triggers join them
                   for threads in self.threads[1:] for thread in threads]
        texts = [(n, text, weight) for n, (text, weight) in
                 enumerate(titles + [(text, "B") for text in self.overviews] + threads)]
        overviews, threads_at = 12 * len(self.titles), 12 * len(self.titles) + len(self.overviews)
        docs = [(n, 12 * item + title, overviews + overview,
                 threads_at + (length - 1) * THREADS_PER_LENGTH + thread if length else None)
                for n, (item, title, overview, length, thread) in enumerate(self.docs)]
        return texts, docs

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch

    def ticket(self, *, status: str | None = None, due: bool = False, comments: int | None = None,
               assignee_id: int | None = None) -> str:
        """Add one ticket with its history to the batch and return its display id."""
        rng, now = self.rng, self.now
        self.draw += 1
        status = status or self.statuses[self.draw % 100_003]
        severity = self.severities[self.draw % 100_019]
        index = rng.randrange(len(self.ref.items))
        category_id, type_id, item_id, _ = self.ref.items[index]
        if comments is None:
            kind = "commented" if rng.random() < COMMENTED_SHARE else "plain"
        else:
            kind = "worked" if comments == WORKED_COMMENTS else "plain" if comments == 0 else None
            assert kind, f"comments: None, 0 or {WORKED_COMMENTS}"
        doc = rng.choice(self.doc_kinds[index][kind])
        _, title_index, overview, length, thread = self.docs[doc]
        title, title_json = self.titles[index][title_index]
        if assignee_id is None and (status != OPEN or rng.random() < 0.65):
            assignee_id = rng.choice(self.agent_ids)
        service_made = rng.random() < SERVICE_CREATED_SHARE
        creator_id = self.ref.service_id if service_made else rng.choice(self.agent_ids)
        worker_id = assignee_id or rng.choice(self.agent_ids)
        created, resolved, closed, closer = self._times(status, due, worker_id)

        ticket_id = self.next_ticket
        self.next_ticket += 1
        events = [(created, creator_id, "create", None, (
            f'{{"title": {title_json}, "severity": {severity}, "status": "OPEN", '
            f'"cti": {self.cti_json[index]}, "assignee": {self.user_json.get(assignee_id, "null")}}}'))]
        if status == IN_PROGRESS:
            events.append((created + rng.random() * min(now - created, 2 * DAY), worker_id, "status",
                           JSON_STATUS[OPEN], JSON_STATUS[IN_PROGRESS]))
        if resolved is not None:
            events.append((resolved, worker_id, "status", JSON_STATUS[OPEN], JSON_STATUS[RESOLVED]))
        if closed is not None:  # the sweep audits as the system with its own action
            events.append((closed, closer, "status" if closer else "auto_close",
                           JSON_STATUS[RESOLVED], JSON_STATUS[CLOSED]))
        if length:
            events.extend(self._comments(ticket_id, self.threads[length][thread], created, resolved, worker_id))
            events.sort(key=lambda event: event[0])
        self._audit(ticket_id, events)
        updated = events[-1][0] if events[-1][0] > created else created
        display_id = next(self.display_ids)
        row = (ticket_id, display_id, title, self.overviews[overview], severity, status,
               category_id, type_id, item_id, assignee_id, creator_id, _ts(created), _ts(updated),
               _ts(resolved), _ts(closed), len(events))
        self.batch.tickets.append(row if self.doc_vectors is None else (*row, self.doc_vectors[doc]))
        return display_id

    def _times(self, status: str, due: bool, worker_id: int):
        """created, resolved, closed times and who closed it, consistent with the status."""
        rng, now = self.rng, self.now
        resolved = closed = closer = None
        if status in (OPEN, IN_PROGRESS):
            created = now - YEARS_2 * rng.random() ** 3  # the open queue is mostly recent
        elif status == RESOLVED:
            overdue = due or rng.random() < OVERDUE_RESOLVED_SHARE
            age = AUTO_CLOSE + HOUR + rng.random() * 30 * DAY if overdue else rng.random() * (AUTO_CLOSE - HOUR)
            resolved = now - age
            created = max(resolved - rng.expovariate(1 / (3 * DAY)), now - YEARS_2)
        else:
            created = now - AUTO_CLOSE - 2 * DAY - rng.random() * (YEARS_2 - AUTO_CLOSE - 2 * DAY)
            resolved = min(created + rng.expovariate(1 / (3 * DAY)), now - AUTO_CLOSE - DAY)
            if rng.random() < SWEEP_CLOSED_SHARE:
                closed, closer = resolved + AUTO_CLOSE + rng.random() * HOUR, None
            else:
                closed, closer = resolved + rng.random() * 3 * DAY, worker_id
        return created, resolved, closed, closer

    def _comments(self, ticket_id: int, thread: list[int], created: float, resolved: float | None, worker_id: int):
        """Comment rows (the thread's bodies, oldest first) for the batch, and their `comment_add` events
        for the audit trail."""
        rng = self.rng
        end = resolved if resolved is not None else min(self.now, created + 60 * DAY)
        times = sorted(created + rng.random() * (end - created) for _ in thread)
        events = []
        for at, pick in zip(times, thread):
            author = worker_id if rng.random() < 0.6 else rng.choice(self.agent_ids)
            body, body_json = self.comment_pool[pick]
            comment_id = self.next_comment
            self.next_comment += 1
            self.batch.comments.append((comment_id, ticket_id, author, body, _ts(at)))
            events.append((at, author, "comment_add", None, f'{{"commentId": {comment_id}, "body": {body_json}}}'))
        return events

    def _audit(self, ticket_id: int, events) -> None:
        append = self.batch.audits.append
        for at, actor, action, before, after in events:
            append((self.next_audit, ticket_id, actor, action, before, after, _ts(at)))
            self.next_audit += 1


def _ts(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc)


def display_ids(count: int, taken: set[str], rng: random.Random) -> list[str]:
    """`count` new V######### ids, none in `taken` (which grows to include them)."""
    result = []
    while len(result) < count:
        candidate = f"V{rng.randrange(10**9):09d}"
        if candidate not in taken:
            taken.add(candidate)
            result.append(candidate)
    return result
