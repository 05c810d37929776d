"""/reports: the figures on the page, the filters in the URL, bad filters refused with a message, CSV."""
from datetime import timedelta

import pytest

from webapp.db.utc import utcnow
from webapp.models import Role, Status
from webapp.services.tickets import change_status

from .conftest import is_full_page


@pytest.fixture
def queue(make, agent):
    infra = make.cti("Infra", "Servers", "web01")
    apps = make.cti("Apps", "Billing", "invoices")
    tickets = [make.ticket(actor=agent, cti=infra, severity=1), make.ticket(actor=agent, cti=infra, severity=3),
               make.ticket(actor=agent, cti=apps, severity=3)]
    change_status(agent, tickets[0], Status.IN_PROGRESS)
    change_status(agent, tickets[0], Status.RESOLVED)
    return {"infra": infra, "apps": apps, "tickets": tickets}


def test_page_shows_every_report_with_tables_and_csv_links(client, queue):
    response = client.get("/reports")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and is_full_page(response)
    for heading in ("Open tickets by severity and age", "Created and resolved", "Time to first response",
                    "Top 10 CTI items", "Busiest hours", "SLA attainment"):
        assert heading in html
    assert "SLA timers are not set up yet" in html
    assert html.count('<svg class="chart"') == 4 and html.count("<title id=") == 4
    assert "Infra › Servers › web01" in html and "first move to IN_PROGRESS" in html
    assert '/reports/open-by-age.csv?from=' in html


def test_filters_live_in_the_url_and_narrow_the_figures(client, queue):
    category = queue["apps"][0].id
    html = client.get(f"/reports?category={category}&severity=3&by=week").get_data(as_text=True)
    assert "Apps › Billing › invoices" in html and "Infra › Servers › web01" not in html
    assert f'<option value="{category}" selected>' in html and "Week of" in html


def test_csv_download_is_the_table(client, queue):
    today = utcnow().date()
    response = client.get(f"/reports/created-resolved.csv?from={today}&to={today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines() == ["Day,Created,Resolved", f"{today},3,1"]
    times = client.get("/reports/response-times.csv").get_data(as_text=True).splitlines()
    assert times[0].startswith("Group,First responses,Median first response (s)")
    assert client.get("/reports/nothing.csv").status_code == 404


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=2026-12-01&to=2026-11-01", "from", "is after the end"),
    ("from=2000-01-01&to=2019-12-31", "to", "Choose at most 366 days"),
    ("category=999999", "category", "No such category"),
    ("severity=9", "severity", "from 1 (critical) to 5"),
    ("from=yesterday", "from", "Use a date like"),
    ("to=0001-01-02", "to", "Choose a date from 1970"),
    ("by=month", "by", "day or week"),
])
def test_bad_filters_get_a_message_not_a_500(client, agent, query, field, message):
    response = client.get(f"/reports?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and is_full_page(response)
    assert f'id="{field}-error"' in html and message in html and '<svg class="chart"' not in html
    assert client.get(f"/reports/open-by-age.csv?{query}").status_code == 422


def test_a_range_without_tickets_draws_empty_charts(client, agent):
    html = client.get("/reports?from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert "No tickets were created or resolved in this range." in html
    assert "No tickets were created in this range." in html


def test_only_staff_may_see_reports(client, make, auth):
    assert client.get("/reports").status_code == 302  # to the sign-in page
    make.user("robot", role=Role.SERVICE)
    assert client.get("/reports/open-by-age.csv").status_code == 302


def test_dashboard_fetches_the_open_by_severity_chart(client, queue):
    html = client.get("/").get_data(as_text=True)
    assert 'hx-get="/reports/open-by-severity"' in html and 'href="/reports"' in html
    chart = client.get("/reports/open-by-severity", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert chart.startswith('<svg class="chart"') and "SEV 3 Medium: 2" in chart and "<html" not in chart
