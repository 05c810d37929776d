"""What a file is, told from its bytes: names cleaned, types sniffed, a declared type checked."""
import io

import pytest

from webapp.services import ValidationError
from webapp.services.attachment_files import Upload, clean_filename, declared_disagrees, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.mark.parametrize("raw, cleaned", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\bob\\boot.log", "boot.log"),
    ("evil\x00name\r\n.txt", "evil name .txt"),
    ("\u202egnp.exe", "gnp.exe"),  # a right-to-left override cannot disguise the extension
    ("...", "attachment"),
    ("", "attachment"),
    (None, "attachment"),
    ("  spaced   out  .log ", "spaced out .log"),
])
def test_names_lose_directories_and_control_characters(raw, cleaned):
    assert clean_filename(raw) == cleaned


def test_a_500_character_name_is_cut_to_255_keeping_its_extension():
    name = clean_filename("a" * 500 + ".tar.gz")
    assert len(name) == 255 and name.endswith("a.gz")


@pytest.mark.parametrize("head, expected", [
    (PNG, "image/png"), (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"), (b"GIF89a....", "image/gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"), (b"%PDF-1.7", "application/pdf"),
    (b"PK\x03\x04rest", "application/zip"), (b"\x1f\x8b\x08", "application/gzip"),
    (b"Dec  3 03:02:01 web01 kernel: oom\n", "text/plain"),
    ("naïve café log\n".encode(), "text/plain"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml"),
    (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html"),
    (b"hello <script>alert(1)</script>", "text/html"),
    (b"<?xml version='1.0'?><config/>", "application/xml"),
    (b"\x00\x01\x02binary", "application/octet-stream"),
    (b"\xff\xfe\x00bad utf8 here and more", "application/octet-stream"),
])
def test_the_type_comes_from_the_bytes(head, expected):
    assert sniff(head) == expected


def test_a_multibyte_character_cut_at_the_end_of_the_head_is_still_text():
    assert sniff(("x" * 10 + "é").encode()[:-1]) == "text/plain"


@pytest.mark.parametrize("declared, sniffed, disagrees", [
    ("image/png", "image/png", False), ("image/png", "text/html", True), ("image/jpg", "image/jpeg", False),
    ("application/pdf", "application/zip", True), ("text/plain", "image/png", True),
    ("text/plain", "text/html", False), ("application/json", "text/plain", False),
    ("application/octet-stream", "text/html", False), (None, "image/png", False), ("", "application/zip", False),
])
def test_a_declared_type_is_checked_only_where_it_says_something(declared, sniffed, disagrees):
    assert declared_disagrees(declared, sniffed) is disagrees


def test_measuring_reads_size_digest_and_type_then_rewinds():
    upload = Upload("shot.png", "image/png", io.BytesIO(PNG))
    upload.measure(1024)
    assert (upload.size, upload.content_type, len(upload.sha256)) == (len(PNG), "image/png", 64)
    assert upload.stream.read() == PNG


@pytest.mark.parametrize("upload, message", [
    (Upload("empty.txt", "text/plain", io.BytesIO(b"")), "empty.txt is empty (0 bytes)."),
    (Upload("big.log", "text/plain", io.BytesIO(b"x" * 2000)), "big.log is larger than the 1,024 bytes limit per file."),
    (Upload("fake.png", "image/png", io.BytesIO(b"<html><script>x</script>")),
     "fake.png was sent as image/png, but its content is text/html."),
])
def test_a_bad_file_is_refused_naming_it(upload, message):
    with pytest.raises(ValidationError) as refused:
        upload.measure(1024)
    assert refused.value.fields == {"files": message}
