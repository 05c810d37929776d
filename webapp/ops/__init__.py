"""Operations: health and readiness probes, metrics, request ids, security headers, proxy setup."""
from flask import Blueprint

bp = Blueprint("ops", __name__)


def init_app(app) -> None:
    """Wire the operational hooks into `app` and serve /healthz, /readyz and /metrics."""
    from . import http, metrics

    http.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(bp)


from . import routes  # noqa: E402,F401
