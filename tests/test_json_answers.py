"""JSON answers come from orjson, but read as Flask's own provider writes them."""
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from flask.json.provider import DefaultJSONProvider

from webapp.http.json import OrjsonProvider


@dataclass
class Point:
    x: int


def test_answers_decode_to_what_flasks_provider_writes(app):
    value = {"b": 1, "a": "SEV 1 › Höchst", "when": datetime(2026, 11, 29, 9, 30, tzinfo=timezone.utc),
             "day": date(2026, 11, 29), "price": Decimal("1.50"), 7: Point(3), "none": None}
    standard = DefaultJSONProvider(app)
    standard.sort_keys = False
    assert isinstance(app.json, OrjsonProvider)
    assert json.loads(app.json.dumps(value)) == json.loads(standard.dumps(value))
    assert list(json.loads(app.json.dumps(value))) == ["b", "a", "when", "day", "price", "7", "none"]


def test_responses_are_compact_utf8_json(app):
    with app.test_request_context():
        response = app.json.response(path="Infra › Servers", n=2)
    assert response.mimetype == "application/json"
    assert response.get_data() == '{"path":"Infra › Servers","n":2}'.encode()


def test_options_orjson_lacks_fall_back_to_the_standard_encoder(app):
    assert app.json.dumps({"b": 1, "a": 2}, indent=1, sort_keys=True) == '{\n "a": 2,\n "b": 1\n}'
