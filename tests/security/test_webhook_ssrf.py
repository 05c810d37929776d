"""Webhooks cannot be aimed at this host or its cloud metadata (SSRF): not when saved, not when a
name changes its answer before a delivery (DNS rebinding), not through a redirect; and a failed
answer's body is kept and shown only as a short, escaped excerpt."""
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Role, Webhook, WebhookDelivery
from webapp.services import ValidationError, delivery, http_sender
from webapp.services import webhooks as service

from ..conftest import LOOPBACK_NETWORK, make_app
from ..fake_dns import FakeDns
from ..delivery_support import outgoing
from ..jobs_fixtures import receiver, receivers  # noqa: F401

SECRET = "s3cret-for-ssrf-tests-0123456789"


@pytest.fixture
def admin(make):
    return make.user("admin", role=Role.ADMIN)


@pytest.fixture
def dns(app, monkeypatch):
    """This test's DNS: names it sets in `dns.names`, numeric hosts as the system reads them."""
    fake = FakeDns()
    monkeypatch.setitem(app.config, "WEBHOOK_RESOLVER", fake)
    return fake


def save(admin, url, name="n8n", events=("create",)) -> Webhook:
    return service.create_webhook(admin, name=name, url=url, secret=SECRET, events=list(events))


def url_error(admin, url) -> str:
    with pytest.raises(ValidationError) as error:
        save(admin, url)
    assert list(error.value.fields) == ["url"]
    return error.value.fields["url"]


FORBIDDEN = [
    ("http://127.0.0.1:5678/webhook/x", "loopback"),
    ("http://localhost:5678/webhook/x", "loopback"),
    ("http://[::1]:5678/webhook/x", "loopback"),
    ("http://127.1/x", "loopback"),  # what getaddrinfo makes of short and decimal forms
    ("http://2130706433/x", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/x", "link-local"),
    ("http://0.0.0.0:5678/x", "unspecified"),
    ("http://[::]/x", "unspecified"),
    ("http://[::ffff:127.0.0.1]/x", "loopback"),
    ("http://[::ffff:169.254.169.254]/x", "link-local"),
    ("http://224.0.0.1/x", "multicast"),
    ("http://[ff02::1]/x", "multicast"),
]


@pytest.mark.parametrize("url, kind", FORBIDDEN)
def test_webhooks_to_forbidden_addresses_are_refused_when_saved(app, admin, dns, url, kind):
    message = url_error(admin, url)
    assert f"a {kind} address" in message and "WEBHOOK_ALLOWED_NETWORKS" in message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webhook)) == 0


def test_a_name_with_any_forbidden_address_is_refused_naming_it(app, admin, dns):
    dns.names["n8n.internal"] = ["10.0.0.5", "169.254.169.254"]
    message = url_error(admin, "https://n8n.internal/webhook/x")
    assert message.startswith("n8n.internal resolves to 169.254.169.254, a link-local address")


@pytest.mark.parametrize("url", [
    "http://n8n.example.com:0/x",
    "http://n8n.example.com:70000/x",
    "http://n8n.example.com:http/x",
    "http://[::1/",
    "http://[not-an-address]/x",
    "http://n8n.example.com/a\x00b",
    "http://n8n.example.com/a\r\nX-Injected: 1",
    "http://n8n.exa\tmple.com/x",
    "http://n8n.example.com/a b",
    "http://n8n.exämple.com/x",
    "http://exa%6dple.com/x",
    "http://user:pw@n8n.example.com/x",
    "http://@127.0.0.1/x",
    "file:///etc/passwd",
    "gopher://n8n.example.com:70/x",
    "https:///x",
])
def test_malformed_webhook_urls_are_refused_naming_the_field(app, admin, dns, url):
    url_error(admin, url)


@pytest.mark.parametrize("url", [
    "http://[::1/", "http://127.0.0.1:5678/hook", "http://n8n.example.com:70000/x",
])
def test_the_form_refuses_a_bad_url_with_422_beside_the_field_keeping_the_input(client, auth, admin, dns, url):
    auth.login("admin")
    response = client.post("/admin/webhooks/new", data={"name": "n8n", "url": url, "secret": SECRET})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="url-error"' in page and f'value="{url}"' in page
    hook = save(admin, "https://n8n.example.com/x")
    response = client.post(f"/admin/webhooks/{hook.id}/edit", data={"name": "n8n", "url": url})
    assert response.status_code == 422 and 'id="url-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert hook.url == "https://n8n.example.com/x"


@pytest.mark.parametrize("url", [
    "http://10.0.0.5:5678/webhook/x", "http://192.168.1.20/webhook/x", "http://172.16.3.4/x",
    "http://[fd00::5]:5678/x", "http://n8n.internal:5678/webhook/x", "http://n8n_main:5678/x",
])
def test_private_networks_stay_allowed_after_their_address_is_checked(app, admin, dns, url):
    dns.names.update({"n8n.internal": ["10.0.0.5"], "n8n_main": ["172.18.0.4"]})
    assert save(admin, url).url == url
    assert len(dns.asked) == 1  # resolved (or read as a number) and checked at save time


def test_a_name_that_does_not_resolve_yet_is_saved_and_checked_at_delivery(app, admin, dns):
    assert save(admin, "https://n8n.example.com/x").url == "https://n8n.example.com/x"
    assert dns.asked == ["n8n.example.com"]


def test_allowed_networks_open_exactly_the_ranges_they_name(app, admin, dns, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", f"{LOOPBACK_NETWORK}, 169.254.169.254/32")
    save(admin, "http://127.0.0.1:5678/x", name="a")
    save(admin, "http://[::ffff:127.0.0.1]:5678/x", name="b")  # the same address, written as IPv6
    save(admin, "http://169.254.169.254/x", name="c")
    assert "link-local" in url_error(admin, "http://169.254.170.2/x")
    assert "loopback" in url_error(admin, "http://[::1]/x")


def test_a_typo_in_the_allowed_networks_stops_the_app(database_url):
    with pytest.raises(RuntimeError, match="WEBHOOK_ALLOWED_NETWORKS"):
        make_app(database_url, WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/33")


# -- at delivery ---------------------------------------------------------------------------

def only_delivery(hook: Webhook) -> WebhookDelivery:
    db.session.expire_all()
    return db.session.scalars(sa.select(WebhookDelivery).filter_by(webhook_id=hook.id)).one()


def test_a_name_rebound_to_loopback_after_saving_is_refused_and_sent_nothing(app, make, admin, dns, receiver,
                                                                              monkeypatch):
    dns.names["n8n.internal"] = ["10.0.0.5"]  # what the check at save time sees
    hook = save(admin, f"http://n8n.internal:{receiver.port}/hook")
    dns.names["n8n.internal"] = ["127.0.0.1"]  # and then the name points at this host
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 2)
    make.ticket()
    row = only_delivery(hook)
    assert (row.status, row.attempts, row.last_status_code) == ("PENDING", 1, None)
    assert row.last_error.startswith("Refused, nothing sent: n8n.internal resolves to 127.0.0.1, a loopback address")
    assert row.next_attempt_at is not None  # retried like any failure: the name may change back
    db.session.execute(sa.update(WebhookDelivery).values(next_attempt_at=row.created_at))
    db.session.commit()
    assert delivery.deliver(row.id) == "FAILED"
    assert receiver.requests == []
    assert dns.asked == ["n8n.internal"] * 3  # at save, then once per attempt


def test_a_delivery_connects_to_the_address_it_checked_keeping_the_host_name(app, make, admin, dns, receiver,
                                                                            loopback_allowed):
    """The name is resolved once; had anything resolved it again (the system resolver), the
    delivery could not have arrived, since only this test's DNS knows the name."""
    dns.names["hooks.internal"] = ["127.0.0.1"]
    hook = save(admin, f"http://hooks.internal:{receiver.port}/in?via=ticketing")
    make.ticket()
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.internal:{receiver.port}" and request.path == "/in?via=ticketing"
    assert only_delivery(hook).status == "DELIVERED"
    assert dns.asked == ["hooks.internal", "hooks.internal"]  # at save, at delivery


def test_a_webhook_saved_while_loopback_was_allowed_is_refused_once_it_is_not(app, make, admin, dns, receiver,
                                                                             monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORK)
    hook = save(admin, receiver.url)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", "")
    make.ticket()
    assert only_delivery(hook).last_error.startswith("Refused, nothing sent: 127.0.0.1 is a loopback address")
    assert receiver.requests == []


def test_the_delivery_page_shows_a_short_escaped_excerpt_of_a_failed_answer(client, auth, make, admin, receiver,
                                                                           loopback_allowed):
    page_body = b"<script>alert(1)</script>\x00 internal page " + b"A" * 5000 + b" END-OF-INTERNAL-PAGE"
    receiver.answer(500, body=page_body)
    hook = save(admin, receiver.url)
    make.ticket()
    row = only_delivery(hook)
    prefix = "HTTP 500 Internal Server Error: "
    assert row.last_error.startswith(prefix + "<script>alert(1)</script> internal page AAA")
    assert len(row.last_error) - len(prefix) <= delivery.EXCERPT_MAX and "END-OF" not in row.last_error
    auth.login("admin")
    page = client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "A" * delivery.EXCERPT_MAX not in page and "END-OF" not in page


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver on 127.0.0.1 with a self-signed certificate for hooks.internal; records SNI and Host."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=hooks.internal", "-addext", "subjectAltName=DNS:hooks.internal",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    seen: dict = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["host"].append(self.headers["Host"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1], cert, seen
    server.shutdown()
    server.server_close()


def test_https_deliveries_send_sni_and_verify_the_certificate_for_the_url_host(app, dns, tls_receiver,
                                                                              loopback_allowed, monkeypatch):
    port, cert, seen = tls_receiver
    dns.names.update({"hooks.internal": ["127.0.0.1"], "other.internal": ["127.0.0.1"]})

    def attempt(host: str):
        outgoing = delivery.Outgoing(url=f"https://{host}:{port}/in", secret=SECRET, event_id=1, action="create",
                                     delivery_id=1, attempt=1, body=b"{}")
        return delivery.post(outgoing, timeout=5)

    status, error = attempt("hooks.internal")
    assert status is None and "CERTIFICATE_VERIFY_FAILED" in error  # verified, and this one is not trusted
    default_context = ssl._create_default_https_context  # what http.client uses when given no context

    def trusting_the_test_certificate(*args, **kwargs):
        context = default_context(*args, **kwargs)
        context.load_verify_locations(cert)
        return context

    monkeypatch.setattr(ssl, "_create_default_https_context", trusting_the_test_certificate)
    assert attempt("hooks.internal") == (204, None)
    status, error = attempt("other.internal")  # same address, another name: the certificate does not fit
    assert status is None and "Hostname mismatch" in error
    assert seen == {"sni": ["hooks.internal", "hooks.internal", "other.internal"], "host": [f"hooks.internal:{port}"]}


def test_a_kept_connection_is_reused_only_for_an_address_its_own_batch_checked(app, dns, receivers, monkeypatch):
    """Every batch resolves and checks again: a kept connection to an address the name no longer
    gives is closed unused, and a name rebound to a forbidden address is sent nothing at all."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORK)
    receiver = receivers(keep_alive=True)
    url = f"http://hooks.internal:{receiver.port}/in"
    connections = http_sender.Connections(timeout=5)

    def batch(number: int) -> http_sender.Answer:  # a batch of one: its own check, then the send
        return connections.send(outgoing(url, number), http_sender.check_targets([url])[url])

    dns.names["hooks.internal"] = ["127.0.0.1"]
    assert batch(1).status_code == batch(2).status_code == 200
    assert receiver.connections == 1  # kept, and reused while the name gives the same address
    dns.names["hooks.internal"] = ["127.0.0.2"]  # allowed too, but nothing listens there
    assert batch(3).error.startswith("Could not connect")  # not over the kept connection to 127.0.0.1 …
    dns.names["hooks.internal"] = ["127.0.0.1"]
    assert batch(4).status_code == 200 and receiver.connections == 2  # … which was closed, not kept
    dns.names["hooks.internal"] = ["169.254.169.254"]
    answer = batch(5)
    assert answer.error.startswith("Refused, nothing sent: hooks.internal resolves to 169.254.169.254")
    connections.close()
    assert [r.headers["X-Ticketing-Delivery-Id"] for r in receiver.requests] == ["1", "2", "4"]
    assert dns.asked == ["hooks.internal"] * 5  # once per batch
