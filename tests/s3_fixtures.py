"""A real S3-compatible server (moto's server mode) on 127.0.0.1 for the attachment store's tests."""
import socket

import pytest

BUCKET = "tickets-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """The server's endpoint URL, for the whole run (each test empties the bucket it uses)."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_store(s3_server, app, monkeypatch):
    """ATTACHMENT_STORAGE pointed at a fresh bucket on the local server; yields a boto3 client to look inside."""
    import boto3

    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", f"s3://{BUCKET}/files")
    monkeypatch.setitem(app.config, "ATTACHMENT_S3_ENDPOINT", s3_server)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def object_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))
