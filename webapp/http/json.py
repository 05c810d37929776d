"""JSON answers encoded by orjson (docs/performance.md); request bodies are parsed by `json` (api/parsing.py)."""
import orjson
from flask.json.provider import DefaultJSONProvider

# Whatever orjson would write differently from Flask's provider goes through Flask's `default`
# (dates as HTTP dates, dataclasses, Decimal); dict keys that are not text are written as text.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson doing the encoding: compact UTF-8, keys in the order built."""

    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        if kwargs:  # options orjson does not take (indent, sort_keys...): the standard encoder
            return super().dumps(obj, **kwargs)
        return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()

    def response(self, *args, **kwargs):
        body = orjson.dumps(self._prepare_response_obj(args, kwargs), default=self.default, option=_OPTIONS)
        return self._app.response_class(body, mimetype=self.mimetype)
