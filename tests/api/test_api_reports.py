"""GET /api/reports/...: the page's figures as JSON (checked against the OpenAPI document), 422 naming the field."""
import pytest

from webapp.db.utc import utcnow
from webapp.models import Status
from webapp.services.tickets import change_status


@pytest.fixture
def filed(make, keys, n8n_cti):
    tickets = [make.ticket(actor=keys.service, cti=n8n_cti, severity=s) for s in (1, 5, 5)]
    change_status(keys.service, tickets[1], Status.IN_PROGRESS)
    change_status(keys.service, tickets[1], Status.RESOLVED)
    return tickets


def test_every_report_at_once(api, filed):
    body = api.get("/api/reports").get_json()
    assert body["filters"]["to"] == utcnow().date().isoformat() and body["filters"]["by"] == "day"
    assert body["open-by-age"]["total"] == 2 and body["sla"]["available"] is False
    assert body["created-resolved"]["created"] == 3 and body["created-resolved"]["resolved"] == 1
    assert body["top-items"]["items"][0]["path"] == "TheWrightServer › Automation › Backup"
    assert sum(map(sum, body["busiest-hours"]["counts"])) == 3


def test_one_report_with_filters(api, filed, n8n_cti):
    category = n8n_cti[0].id
    body = api.get(f"/api/reports/response-times?categoryId={category}&severity=5").get_json()
    assert body["filters"] == {"from": body["filters"]["from"], "to": body["filters"]["to"], "by": "day",
                               "categoryId": str(category), "severity": 5}
    [sev5] = body["report"]["bySeverity"]
    assert sev5["resolve"]["count"] == 1 and sev5["acknowledge"]["count"] == 1
    assert sev5["resolve"]["medianSeconds"] is not None
    assert body["report"]["byCategory"][0]["categoryId"] == str(category)


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-12-01&to=2026-11-01", "from"),
    ("from=2006-01-01&to=2026-01-01", "to"),
    ("categoryId=987654", "categoryId"),
    ("categoryId=abc", "categoryId"),
    ("severity=0", "severity"),
    ("to=31-12-2026", "to"),
    ("by=hour", "by"),
])
def test_bad_filters_are_422_naming_the_parameter(api, query, field):
    response = api.get(f"/api/reports/created-resolved?{query}")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_a_range_without_tickets_is_all_zeros(api):
    report = api.get("/api/reports/created-resolved?from=2021-02-01&to=2021-02-07&by=week").get_json()["report"]
    assert report["created"] == 0 and [p["start"] for p in report["points"]] == ["2021-02-01"]
