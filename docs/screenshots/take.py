"""Take the screenshots in this folder from a running demo: `make run` (demo data), then

    .venv/bin/python docs/screenshots/take.py [http://127.0.0.1:5000]

Signs in as the demo admin (admin / admin123) in Debian's Chromium and saves each page in light
and dark, on a desktop and a phone. Only the given address on 127.0.0.1 is contacted.
"""
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP, PHONE = {"width": 1280, "height": 860}, {"width": 390, "height": 844}


def pages(page, base: str) -> dict[str, str]:
    """name → path: the queue, a worked ticket (its tabs), filing, the inbox, reports, the profile."""
    page.goto(base + "/?status=all")
    ticket = page.locator("tr[data-id]").first.get_attribute("data-id")
    return {"dashboard": "/", "ticket": f"/tickets/{ticket}", "ticket-comments": f"/tickets/{ticket}/comments",
            "ticket-audit": f"/tickets/{ticket}/audit", "new-ticket": "/tickets/new",
            "notifications": "/notifications", "reports": "/reports", "profile": "/profile"}


def main(base: str = "http://127.0.0.1:5000") -> int:
    if urlsplit(base).hostname != "127.0.0.1":
        raise SystemExit("screenshots are taken of a local demo on 127.0.0.1 only")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            for scheme in ("light", "dark"):
                context = browser.new_context(viewport=viewport, color_scheme=scheme)
                page = context.new_page()
                page.goto(base + "/login")
                page.fill("#username", "admin")
                page.fill("#password", "admin123")
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/login" not in url)
                for name, path in pages(page, base).items():
                    if device == "phone" and name not in ("dashboard", "ticket", "notifications"):
                        continue
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    suffix = "phone" if device == "phone" and scheme == "light" else \
                        f"phone-{scheme}" if device == "phone" else scheme
                    page.screenshot(path=str(HERE / f"{name}-{suffix}.png"), full_page=device == "desktop",
                                    caret="initial")
                context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
