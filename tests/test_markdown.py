"""Markdown renders GFM and nothing executable survives."""
from html.parser import HTMLParser

import pytest

from webapp.ui.markdown import render

DANGEROUS_TAGS = {"script", "iframe", "svg", "object", "embed", "style", "form", "math", "base", "link", "meta"}


class TagCollector(HTMLParser):
    """The elements and attributes a browser would build from the HTML (text is harmless)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html):
    collector = TagCollector()
    collector.feed(str(html))
    return collector.tags


def test_gfm_features_render():
    html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ https://example.com\n\n- [x] done\n- [ ] todo\n\n```py\nx = 1\n```")
    assert "<table>" in html and "<td>1</td>" in html
    assert "<del>gone</del>" in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert 'type="checkbox"' in html and "checked" in html and "disabled" in html
    assert '<code class="language-py">' in html


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<svg onload=alert(1)>",
    "<iframe src=//evil></iframe>",
    "| <script>alert(1)</script> | b |\n|---|---|\n| 1 | 2 |",
    "[x](vbscript:msgbox(1))",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
])
def test_nothing_executable_survives(payload):
    for tag, attrs in elements(render(payload)):
        assert tag not in DANGEROUS_TAGS
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style"
            if name in {"href", "src"}:
                assert value.split(":")[0].lower() in {"http", "https", "mailto"} or ":" not in value


def test_only_checkbox_inputs_survive():
    assert elements(render("<input type=text value=x autofocus onfocus=alert(1)>")) == [("p", {})]
