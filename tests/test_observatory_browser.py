"""The observatory in a real browser (headless Chromium, as tests/test_web_browser.py): the survey after a plan
filled with the keyboard alone, the dashboard behind its token with its charts and commune map, axe-clean."""

from __future__ import annotations

import threading

import pytest

from test_web_browser import _axe_source, _no_errors, _tab_to, browser, page  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token"
PLAN = "/itineraire?from=Place+Foch%2C+Saint-Omer&to=svc-001&date=2026-12-01&time=10%3A30&arrive_by=1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """waitress on an ephemeral port, with a journal in a fresh SQLite file and the observatory token set."""
    from waitress.server import create_server

    from mobility.interfaces.web import create_app
    from mobility.planning.context import load_context

    url = f"sqlite:///{tmp_path_factory.mktemp('obs-browser') / 'journal.sqlite'}"
    app = create_app({"MOBILITY_DB_URL": url, "MOBILITY_OBSERVATORY_TOKEN": TOKEN}, context=load_context())
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}", app
    srv.close()
    thread.join(5)


def serious_axe_violations(pg, source: str) -> list[tuple]:
    """axe-core's moderate, serious and critical violations on the page (as tests/test_web_browser.py counts
    them for issue 10: none of those on any page)."""
    pg.add_script_tag(content=source)
    result = pg.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"] if v["impact"] in ("moderate", "serious", "critical")]


FOCUSED = "document.activeElement.id"


def test_survey_with_the_keyboard_only(server, page):  # noqa: F811
    base, app = server
    page.goto(base + PLAN)
    assert page.locator("#results article.card").count() >= 1
    assert page.locator("#survey-form fieldset legend").first.inner_text() == "Cette réponse vous a-t-elle été utile ?"
    _tab_to(page, "sq-useful-yes", 120)   # the first radio of the first question
    page.keyboard.press("ArrowRight")     # arrows move within a radio group and check
    assert page.evaluate(FOCUSED) == "sq-useful-partly" and page.is_checked("#sq-useful-partly")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "sq-will_travel-yes"
    page.keyboard.press("Space")
    assert page.is_checked("#sq-will_travel-yes")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "sq-obstacles-no_bus_time"
    page.keyboard.press("Space")
    _tab_to(page, "sq-obstacles-booking", 3)
    page.keyboard.press("Space")
    _tab_to(page, "sq-comment", 5)
    page.keyboard.type("Un bus plus tôt, svp")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "survey-submit"
    page.keyboard.press("Enter")
    page.wait_for_selector("#survey-result")
    assert page.locator("h1").inner_text() == "Merci"
    _no_errors(page)
    state = app.extensions["observatory"]
    from mobility.observatory.report import Filters, summary

    s = summary(state.engine, Filters.parse("2026-01-01", "2030-12-31"))
    assert s["surveys"]["responses"] == 1
    assert s["surveys"]["questions"]["obstacles"] == {"booking": 1, "no_bus_time": 1}
    assert s["surveys"]["questions"]["useful"] == {"partly": 1}
    assert s["surveys"]["recent_comments"] == ["Un bus plus tôt, svp"]


def test_dashboard_with_the_token_shows_charts_and_the_commune_map(server, page):  # noqa: F811
    base, _ = server
    page.goto(base + PLAN.replace("10%3A30", "11%3A00"))  # at least one journaled request
    resp = page.goto(base + "/observatoire/")
    assert resp.status == 401 and page.locator("#login-form").count() == 1
    page.fill("#token", TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#obs-figures")
    assert int(page.inner_text("#fig-requests")) >= 1
    for chart in ("over_time", "outcomes", "by_category", "communes_map"):
        img = page.locator(f"#chart-{chart} img")
        assert img.count() == 1, chart
        assert page.evaluate("(el) => el.complete && el.naturalWidth > 200", img.element_handle()), chart
    assert page.locator("#chart-communes_map img").get_attribute("alt")
    assert page.locator("#table-communes tbody tr").count() >= 1
    assert page.locator("#export-gpkg").get_attribute("href").startswith("/observatoire/export.gpkg?")
    _no_errors(page)


@pytest.mark.slow  # two axe sweeps in a browser (~5 s): CI's second step
@pytest.mark.parametrize("path", [PLAN, "/observatoire/"])
def test_survey_and_dashboard_are_axe_clean(server, browser, path):  # noqa: F811
    base, _ = server
    source = _axe_source()
    if source is None:
        pytest.skip("axe-core not available (pip install axe-playwright-python, in the test extras)")
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900},
                                  extra_http_headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        pg = context.new_page()
        pg.goto(base + path)
        if pg.locator("#map").count():
            pg.wait_for_selector("#map[data-ready='1']", timeout=15000)
        assert pg.locator("#survey-form, #obs-figures").count() == 1
        bad = serious_axe_violations(pg, source)
        assert not bad, bad
    finally:
        context.close()
