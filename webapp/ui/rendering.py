"""The one place that decides whether a request gets the whole page or only a fragment of it (web and admin)."""
from flask import make_response, render_template, request
from jinja2_fragments.flask import render_block

# Every header the decision reads: caches must keep the page and the fragment apart.
VARY = ("HX-Request", "HX-Request-Type", "HX-History-Restore-Request")


def wants_fragment() -> bool:
    """A partial htmx request; boosted links and history restores need the full page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Request-Type") == "partial"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str, *, oob=(), status: int = 200, headers=None, **context):
    """Render `template` in full, or just `block` (plus out-of-band `oob` blocks) for htmx.

    Blocks mark themselves `hx-swap-oob` when their name is in the `oob` set they are given.
    """
    if wants_fragment():
        context["oob"] = frozenset(oob)
        html = render_block(template, block, **context)
        html += "".join(render_block(template, name, **context) for name in oob)
    else:
        context["oob"] = frozenset()
        html = render_template(template, **context)
    response = make_response(html, status)
    response.vary.update(VARY)
    response.headers.update(headers or {})
    return response


def render_partial(template: str, *, status: int = 200, **context):
    """A partial template rendered alone, for a URL that answers a page to other requests (so it Varies too)."""
    response = make_response(render_template(template, **context), status)
    response.vary.update(VARY)
    return response


def render_widget(template: str, block: str, **context):
    """A piece only htmx asks for and never pushes to history (option lists, previews)."""
    context["oob"] = frozenset()
    return make_response(render_block(template, block, **context))
