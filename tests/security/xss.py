"""The XSS corpus and the checks that find an injection, shared by the unit and browser tests."""
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

CORPUS = Path(__file__).with_name("xss_payloads.txt")
ACTIVE_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "meta", "link",
               "style", "form", "svg", "math", "template", "portal", "isindex"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background", "poster"}
SAFE_SCHEMES = {"http", "https", "mailto"}
SAFE_STYLES = {"text-align:left", "text-align:center", "text-align:right"}  # GFM table alignment only


def payloads() -> list[str]:
    """Every payload of the corpus, with \\n and \\\\ turned back into a newline and a backslash."""
    found = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            found.append(re.sub(r"\\(n|\\)", lambda m: "\n" if m.group(1) == "n" else "\\", line))
    return found


def dangerous_url(value: str) -> bool:
    """A URL a browser would run or render as a document: anything but http(s), mailto or relative."""
    cleaned = re.sub(r"[\x00-\x20]", "", unescape(value or "")).lower()
    scheme = re.match(r"^([a-z][a-z0-9+.\-]*):", cleaned)
    return bool(scheme) and scheme.group(1) not in SAFE_SCHEMES


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def injections(html: str) -> list[str]:
    """What in this HTML fragment a browser could run: active elements, handlers, htmx attributes,
    inline styles and dangerous URLs. Empty for safe HTML."""
    parser = _Elements()
    parser.feed(str(html))
    problems = []
    for tag, attrs in parser.found:
        if tag in ACTIVE_TAGS:
            problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or (name == "style" and value not in SAFE_STYLES) or re.match(r"^(data-)?hx-", name):
                problems.append(f"<{tag} {name}>")
            elif name in URL_ATTRIBUTES and dangerous_url(value):
                problems.append(f"<{tag} {name}={value!r}>")
    return problems


# Run in the page: everything injected into the live DOM, beyond our own /static scripts.
DOM_SCAN = """() => {
  const problems = [];
  const bad = v => { const s = (v || '').replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
                     const m = s.match(/^([a-z][a-z0-9+.\\-]*):/); return m && !['http','https','mailto'].includes(m[1]); };
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' && !(el.getAttribute('src') || '').startsWith('/static/')) problems.push('<script>');
    if (['iframe','frame','object','embed','applet','base','portal'].includes(tag)) problems.push('<' + tag + '>');
    if (tag === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh') problems.push('<meta refresh>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) problems.push('<' + tag + ' ' + name + '>');
      if (/^(data-)?hx-on/.test(name)) problems.push('<' + tag + ' ' + name + '>');
      if (['href','src','action','formaction','xlink:href','data','srcdoc'].includes(name) && bad(attr.value))
        problems.push('<' + tag + ' ' + name + '=' + attr.value + '>');
    }
  }
  return problems;
}"""

# Added before any page script: a payload that runs anything trips one of these.
TRIPWIRE = """
window.__xss = 0;
for (const name of ['alert', 'confirm', 'prompt']) { window[name] = () => { window.__xss = 1; }; }
"""
