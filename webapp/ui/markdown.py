"""Markdown (GFM flavour) to HTML that no script can survive: mistune, then nh3's allow-list."""
from functools import lru_cache

import mistune
import nh3
from markupsafe import Markup

_markdown = mistune.create_markdown(
    escape=True, plugins=["table", "strikethrough", "task_lists", "url"]
)

TAGS = {
    "a", "p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "input", "img",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "li": {"class"},
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
    if attr == "class" and not value.replace("-", "").replace("_", "").replace(" ", "").isalnum():
        return None
    if attr == "style":
        return value if value in {"text-align:left", "text-align:center", "text-align:right"} else None
    return value


def render(text: str | None) -> Markup:
    """Render user markdown to sanitised HTML, safe to put straight into a page."""
    text = text or ""
    return Markup(_cached(text) if len(text) <= CACHED_MAX_CHARS else _sanitised(text))


CACHED_MAX_CHARS = 8_000  # comments are short and never edited: a ticket page redraws the same ones


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
