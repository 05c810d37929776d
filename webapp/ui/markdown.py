"""Markdown (GFM flavour) to HTML that no script can survive: mistune, then nh3's allow-list.

@mentions (services.mentions) render as a span, kept by the cache; each page then turns the spans
of active people into links and leaves the others as text, so a deactivation shows at once.
"""
import re
from functools import lru_cache

import mistune
import nh3
from flask import g, has_app_context, has_request_context, url_for
from markupsafe import Markup, escape

from ..services import mentions


class _Renderer(mistune.HTMLRenderer):
    """mistune's HTML, with no mention inside a link's text or an image's alt text."""

    def link(self, text: str, url: str, title=None) -> str:
        return super().link(mentions.unmention(text), url, title)

    def image(self, text: str, url: str, title=None) -> str:
        return super().image(mentions.unmention(text), url, title)


_markdown = mistune.create_markdown(
    escape=True, renderer=_Renderer(escape=True), plugins=[*mentions.MARKDOWN_PLUGINS, mentions.plugin]
)

TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "input", "img", "span",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "li": {"class"},
    "span": {"class"},  # only class="mention", which the renderer writes
    "ol": {"start"},
    "th": {"align", "style"},
    "td": {"align", "style"},
    # Task lists: a disabled checkbox, nothing else an input could carry.
    "input": {"type", "checked", "disabled", "class"},
}


def _filter_attribute(tag: str, attr: str, value: str) -> str | None:
    """Keep only the harmless attribute values mistune itself produces."""
    if tag == "input":
        if attr == "type":
            return "checkbox" if value == "checkbox" else None
        if attr == "class":
            return value if value == "task-list-item-checkbox" else None
    if tag == "span":
        return value if attr == "class" and value == "mention" else None
    if attr == "class" and not value.replace("-", "").replace("_", "").replace(" ", "").isalnum():
        return None
    if attr == "style":
        return value if value in {"text-align:left", "text-align:center", "text-align:right"} else None
    return value


def render(text: str | None) -> Markup:
    """Render user markdown to sanitised HTML, safe to put straight into a page."""
    text = text or ""
    html = _cached(text) if len(text) <= CACHED_MAX_CHARS else _sanitised(text)
    return Markup(link_mentions(html) if _MENTION_SPAN_START in html else html)


CACHED_MAX_CHARS = 8_000  # a ticket page redraws the same comments: their text is the cache key
_MENTION_SPAN_START = '<span class="mention">@'
_MENTION_SPAN = re.compile(r'<span class="mention">@([a-z0-9._-]+)</span>')


def link_mentions(html: str) -> str:
    """Each mention of an active person as a link to their tickets; any other stays `@name` text."""
    people = _mentionable()

    def link(match: re.Match) -> str:
        person = people.get(match.group(1))
        if person is None:
            return "@" + match.group(1)
        href = url_for("web.dashboard", assignee=person[0])
        return (f'<a class="mention" href="{escape(href)}" title="{escape(person[1])}: their tickets">'
                f"@{match.group(1)}</a>")

    return _MENTION_SPAN.sub(link, html)


def _mentionable() -> dict[str, tuple[int, str]]:
    """Who may be mentioned, read once per request (one query, only on a page that has a mention)."""
    if not has_request_context():
        return mentions.mentionable_people() if has_app_context() else {}
    if "mentionable" not in g:
        g.mentionable = mentions.mentionable_people()
    return g.mentionable


@lru_cache(maxsize=1024)
def _cached(text: str) -> str:
    """The same text always renders the same: keep the most recent renderings (each process)."""
    return _sanitised(text)


def _sanitised(text: str) -> str:
    return nh3.clean(
        _markdown(text),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_filter_attribute,
        strip_comments=True,
    )
