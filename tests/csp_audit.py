"""Finds HTML that a strict Content-Security-Policy (no inline script or style, no eval) would break."""
from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "action", "formaction"}


class CspAudit(HTMLParser):
    """Feed it HTML (a template's source or a rendered page); `problems` lists what the CSP blocks."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.problems: list[str] = []

    def _problem(self, message: str) -> None:
        line, _ = self.getpos()
        self.problems.append(f"{self.source}:{line}: {message}")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            src = attributes.get("src")
            if not src:
                self._problem("inline <script> (CSP script-src 'self' blocks it)")
            elif src.startswith(("http:", "https:", "//")):
                self._problem(f"script from another origin: {src}")
        if tag == "style":
            self._problem("inline <style> element (CSP style-src 'self' blocks it)")
        for name, value in attrs:
            self._attribute(name.lower(), (value or "").strip())

    handle_startendtag = handle_starttag

    def _attribute(self, name: str, value: str) -> None:
        bare = name.removeprefix("data-")
        if name == "style":
            self._problem("style= attribute (CSP style-src 'self' blocks it; use a class)")
        elif name.startswith("on"):
            self._problem(f"{name}= event handler attribute (inline script)")
        elif bare.startswith("hx-on"):
            self._problem(f"{name}= runs code through new Function(): needs 'unsafe-eval'")
        elif bare.startswith("hx-") and value.lower().startswith(("js:", "javascript:")):
            self._problem(f"{name}={value!r} is evaluated as JavaScript: needs 'unsafe-eval'")
        elif bare.startswith("hx-trigger") and "[" in value:
            self._problem(f"{name}={value!r}: trigger filters are evaluated: need 'unsafe-eval'")
        elif name in URL_ATTRIBUTES and value.lower().startswith("javascript:"):
            self._problem(f"{name}={value!r}: javascript: URL")


def audit(html: str, source: str) -> list[str]:
    parser = CspAudit(source)
    parser.feed(html)
    parser.close()
    return parser.problems
