"""Attachments in Chromium: pick files with a progress bar, paste an image into the comment editor
(it goes up at once and its markdown lands at the caret), and a refused file says why in place."""
import base64
import re
import secrets

from playwright.sync_api import expect

from .conftest import login

# A 1×1 transparent PNG.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="


def test_pick_files_then_paste_an_image_into_a_comment(browser, live_server):
    tag = secrets.token_hex(3)
    with live_server.setup():
        agent = live_server.make.user(f"filer{tag}")
        ticket = live_server.make.ticket(actor=agent, title=f"Crash on web01 {tag}")
        names = agent.username, ticket.display_id

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, live_server, names[0])
    page.goto(live_server(f"/tickets/{names[1]}"))
    expect(page.locator("#attachments")).to_contain_text("No files yet")
    page.set_input_files("#attach-files", files=[
        {"name": "boot.log", "mimeType": "text/plain", "buffer": b"kernel: oom-killer\n" * 50},
        {"name": "graph.png", "mimeType": "image/png", "buffer": base64.b64decode(PNG_B64)},
    ])
    expect(page.locator("#attachments .file")).to_have_count(2)
    expect(page.locator("#flashes")).to_contain_text("2 files attached.")
    expect(page.locator("#attachments img")).to_have_count(1)  # the image as a thumbnail, the log as a link
    expect(page.locator("#attachments a.file-name[download]")).to_have_text("boot.log")

    page.set_input_files("#attach-files", files=[{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    expect(page.locator("#files-error")).to_have_text("empty.txt is empty (0 bytes).")
    expect(page.locator("#attachments .file")).to_have_count(2)

    page.goto(live_server(f"/tickets/{names[1]}/comments"))
    box = page.locator("#comment-body")
    box.click()
    box.type("Screenshot of the crash:")
    box.press("Enter")
    page.evaluate("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
        document.querySelector("#comment-body").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", PNG_B64)
    expect(page.locator("#comment-form .upload-chip")).to_have_text("pasted.png")
    expect(page.locator("#comment-form .upload-words")).to_contain_text("1 attached")
    image_url = re.compile(rf"^Screenshot of the crash:\n!\[pasted\.png\]\((/tickets/{names[1]}/attachments/\d+/pasted\.png)\)\n$")
    expect(box).to_have_value(image_url)
    url = image_url.match(box.input_value()).group(1)
    page.click("#comment-form button[type=submit]")
    posted = page.locator("#comment-list .comment").last
    expect(posted.locator(".markdown img")).to_have_attribute("src", url)
    expect(posted.locator(".file-list .file")).to_have_count(1)
    page.wait_for_function("""() => {
        const img = document.querySelector('#comment-list .comment:last-child .markdown img');
        return img && img.complete && img.naturalWidth === 1;
    }""")  # the image itself was served and decoded
    context.close()
