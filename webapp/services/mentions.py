"""What counts as an @mention, written once: the markdown renderer links them, the fan-out notifies them.

`@carol` in prose is a mention; in code, in a link's text, inside an e-mail address or a URL it is
not. Only active people (admins and agents) can be mentioned: a mention of anyone else stays text.
"""
from functools import lru_cache

import mistune
import sqlalchemy as sa

from ..extensions import db
from ..models import Role, User

# A username as services.users allows it, ending on a letter or digit so "@bob." mentions bob.
MENTION_PATTERN = r"(?<![\w@./+-])@(?P<mention_name>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?)(?![\w@])"
MARKDOWN_PLUGINS = ["table", "strikethrough", "task_lists", "url"]
MENTION_HTML = '<span class="mention">@{}</span>'


def _parse_mention(inline, match, state):
    state.append_token({"type": "mention", "raw": match.group("mention_name").lower()})
    return match.end()


def _render_mention(renderer, name: str) -> str:
    return MENTION_HTML.format(name)


def plugin(md: mistune.Markdown) -> None:
    """The mistune plugin: a `mention` inline token, rendered as a span the page then links."""
    md.inline.register("mention", MENTION_PATTERN, _parse_mention, before="link")
    if md.renderer and md.renderer.NAME == "html":
        md.renderer.register("mention", _render_mention)


_tokens = mistune.create_markdown(renderer=None, plugins=[*MARKDOWN_PLUGINS, plugin])


@lru_cache(maxsize=1024)
def mentioned_names(text: str | None) -> frozenset[str]:
    """The usernames `text` mentions (lower case), whoever they belong to."""
    if not text or "@" not in text:
        return frozenset()
    names: set[str] = set()
    _collect(_tokens(text), names)
    return frozenset(names)


def _collect(tokens: list[dict], names: set[str]) -> None:
    for token in tokens:
        if token.get("type") == "mention":
            names.add(token["raw"])
        if token.get("children") and token.get("type") not in UNMENTIONED:
            _collect(token["children"], names)


UNMENTIONED = {"link", "image"}  # a link's text and an image's alt text mention no one (no link in a link)


def unmention(html: str) -> str:
    """The rendered text of a link or an image with its mentions back to plain `@name`."""
    return html.replace('<span class="mention">', "").replace("</span>", "") if "mention" in html else html


def new_mentions(before: str | None, after: str | None) -> frozenset[str]:
    """Names `after` mentions that `before` did not: an edit notifies only those it adds."""
    return mentioned_names(after) - mentioned_names(before)


MENTIONABLE = sa.and_(User.active == sa.true(), User.role != Role.SERVICE.value)


def mentionable_people() -> dict[str, tuple[int, str]]:
    """username → (id, display name) of everyone a mention may name: active admins and agents."""
    rows = db.session.execute(sa.select(User.username, User.id, User.display_name).where(MENTIONABLE))
    return {username: (user_id, name) for username, user_id, name in rows}


def suggestions(prefix: str, limit: int = 8) -> list[User]:
    """Active admins and agents whose username or display name starts with `prefix`, for autocomplete."""
    prefix = (prefix or "").strip().lstrip("@").lower()[:64]
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name_words = sa.or_(sa.func.lower(User.display_name).like(pattern, escape="\\"),
                        sa.func.lower(User.display_name).like("% " + pattern, escape="\\"))
    query = (sa.select(User).where(MENTIONABLE, sa.or_(User.username.like(pattern, escape="\\"), name_words))
             .order_by(User.username).limit(limit))
    return list(db.session.scalars(query))
