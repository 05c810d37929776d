"""The one text rule (webapp/services/text.py): what a person could have typed, and the database can keep."""
import pytest

from webapp.services import ValidationError
from webapp.services.text import checked_text, text_fault

KEPT = ["plain", "tabs\tand\nline\r\nbreaks", "²³ ٣ emoji 🎫 and ünïcödé", "", "\u200b zero-width space"]
REFUSED = [("NUL \x00", 0x0), ("escape \x1b[31m", 0x1B), ("bell \x07", 0x7), ("delete \x7f", 0x7F),
           ("C1 next-line \x85", 0x85), ("half a pair \ud800", 0xD800), ("other half \udfff", 0xDFFF)]


@pytest.mark.parametrize("text", KEPT)
def test_text_a_person_types_is_kept(text):
    assert text_fault(text) is None
    assert checked_text("title", text) is text


@pytest.mark.parametrize(("text", "code"), REFUSED, ids=[case[0].split()[0] for case in REFUSED])
def test_control_characters_and_lone_surrogates_are_refused_by_the_fields_name(text, code):
    with pytest.raises(ValidationError) as refused:
        checked_text("title", text)
    message = refused.value.fields["title"]
    assert f"U+{code:04X}" in message and f"position {text.index(chr(code)) + 1}" in message


def test_what_is_not_text_is_left_to_the_fields_own_cleaner():
    assert checked_text("severity", 3) == 3 and checked_text("overview", None) is None
