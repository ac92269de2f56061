"""The web front end in a real browser: headless Debian Chromium driven by Playwright against waitress.

A resident plans a trip to the Maison des services publics of Fauquembergues (svc-001) and sees an itinerary
and a map; an operator plans with the keyboard alone and opens the print view; the English switch works;
axe-core finds no serious or critical violation. Skips (with the reason) where Chromium or Playwright is absent.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("MOBILITY_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
DAY = "2026-12-01"
ORIGIN = "Place Foch, Saint-Omer"


def _axe_source() -> str | None:
    """axe-core's axe.min.js as shipped by the axe-playwright-python package (no CDN)."""
    try:
        import axe_playwright_python
    except ImportError:
        return None
    path = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    return path.read_text(encoding="utf-8") if path.exists() else None


@pytest.fixture(scope="module")
def server():
    """A waitress server on 127.0.0.1 (ephemeral port) in a thread, over the embedded data."""
    from waitress.server import create_server

    from mobility.interfaces.web import create_app
    from mobility.planning.context import load_context

    app = create_app(context=load_context())
    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install playwright; it is in the test extras)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium; scripts/test does it as root)")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=30000)
        except Exception as exc:  # a broken install: say so rather than fail obscurely
            pytest.skip(f"Chromium at {CHROMIUM} does not start: {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900}, bypass_csp=False)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()


def _map_ready(pg) -> None:
    pg.wait_for_selector("#map[data-ready='1']", timeout=15000)
    assert pg.locator("#map .leaflet-control-zoom-in").count() == 1
    # vector layers drawn from our own data (canvas renderer) and the trip over them
    assert pg.locator("#map canvas").count() >= 1


def _no_errors(pg) -> None:
    bad = [e for e in pg.console_errors if "Content Security Policy" in e or "Refused" in e or "Uncaught" in e
           or "404" in e]
    assert not bad, bad


def test_resident_plans_trip_to_fauquembergues(server, page):
    page.goto(server + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#from", "")
    page.type("#from", "Place Foch, Saint", delay=20)
    page.wait_for_selector("#from-list li[role=option]")  # address autocomplete from /api/geocode
    assert page.get_attribute("#from", "aria-expanded") == "true"
    page.fill("#from", ORIGIN)
    page.keyboard.press("Escape")
    page.select_option("#to", "svc-001")
    page.check("#arrive")
    page.fill("#date", DAY)
    page.fill("#time", "10:30")
    page.fill("#return_after_min", "60")
    page.click("button[type=submit]")
    page.wait_for_url("**/itineraire?**")
    cards = page.locator("#results article.card")
    assert cards.count() >= 1
    first = cards.first.inner_text()
    assert "Prendre le bus" in first and "Fauquembergues" in first
    assert "Fauquembergues" in page.locator("#results-h").inner_text()
    assert page.locator("#return-h").count() == 1
    _map_ready(page)
    _no_errors(page)


def _tab_to(pg, element_id: str, most: int = 6) -> None:
    for _ in range(most):
        pg.keyboard.press("Tab")
        if pg.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def test_operator_plans_with_keyboard_only(server, page):
    page.goto(server + "/operateur/")
    assert page.evaluate("document.activeElement.id") == "from"  # autofocus in the address field
    page.keyboard.type(ORIGIN, delay=10)
    page.wait_for_selector("#from-list li[role=option]")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "to"
    page.keyboard.type("pôle de Fauquembergues", delay=10)  # service search as you type
    page.wait_for_selector("#to-list li[role=option]")
    options = page.locator("#to-list li[role=option]").all_inner_texts()
    index = next(i for i, text in enumerate(options) if "pôle de Fauquembergues" in text)
    for _ in range(index + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # picks the suggestion, does not submit
    assert page.input_value("#to").startswith("svc-001")
    assert "/operateur/" in page.url and "from=" not in page.url
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "depart"
    page.keyboard.press("ArrowRight")  # "arriver pour"
    assert page.is_checked("#arrive")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "date"
    page.keyboard.type("12012026")  # en-US date input: mm dd yyyy
    _tab_to(page, "time")  # Tab also walks the date field's own parts
    page.keyboard.type("1030AM")
    assert page.input_value("#date") == DAY and page.input_value("#time") == "10:30"
    page.keyboard.press("Enter")  # Enter plans
    page.wait_for_url("**/operateur/?**")
    assert page.locator("#results article.card").count() >= 1
    assert page.locator("#results .badge").count() >= 1  # fastest / fewest changes / least walking
    _map_ready(page)
    _no_errors(page)
    page.keyboard.press("Alt+I")  # print view
    page.wait_for_url("**/operateur/imprimer?**")
    assert page.locator("h1").inner_text() == "Votre itinéraire"
    assert page.locator("article.card").count() >= 1
    page.emulate_media(media="print")
    assert not page.locator("#print-button").is_visible()
    page.emulate_media(media="screen")
    page.goto(server + "/operateur/")  # the request is listed for a quick re-plan
    recent = page.locator("#recent-list a")
    assert recent.count() >= 1 and "Fauquembergues" in recent.first.inner_text()


def test_english_switch(server, page):
    page.goto(server + "/")
    page.click("#lang-switch")
    page.wait_for_url("**lang=en**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "public service" in page.locator("h1").inner_text()
    page.goto(server + "/")  # persisted in a cookie
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#lang-switch").inner_text() == "Français"
    page.click("#lang-switch")
    page.wait_for_url("**lang=fr**")
    assert page.locator("html").get_attribute("lang") == "fr"


@pytest.mark.parametrize("path", [
    "/",
    f"/itineraire?from=Place+Foch%2C+Saint-Omer&to=svc-001&date={DAY}&time=10%3A30&arrive_by=1&return_after_min=60",
    "/operateur/",
    f"/operateur/?from=Delettes&to=svc-001&date={DAY}&time=08%3A00",
    f"/operateur/imprimer?from=Delettes&to=svc-001&date={DAY}&time=08%3A00",
    f"/planificateur/?to=france_services&date={DAY}&time=08%3A00&window=60",
])
def test_axe_no_serious_violation(server, browser, path):
    source = _axe_source()
    if source is None:
        pytest.skip("axe-core not available (pip install axe-playwright-python, in the test extras)")
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(server + path)
        if pg.locator("#map").count():
            pg.wait_for_selector("#map[data-ready='1']", timeout=15000)
        pg.add_script_tag(content=source)
        result = pg.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, bad
    finally:
        context.close()


def _outline_probes(offset_m: float = 500.0, n: int = 24) -> tuple[list, list]:
    """Points ``offset_m`` inside and outside the real territory outline (union of data/communes.geojson),
    evenly spread along it, as [lat, lon]."""
    import json

    import numpy as np
    import shapely
    from pyproj import Transformer
    from shapely.geometry import shape

    root = Path(__file__).resolve().parent.parent
    feats = json.loads((root / "data" / "communes.geojson").read_text(encoding="utf-8"))["features"]
    to_l93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    to_wgs = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    union = shapely.union_all([shape(f["geometry"]) for f in feats])
    outline = shapely.transform(union, lambda xy: np.column_stack(to_l93.transform(xy[:, 0], xy[:, 1])))
    inner = max(shapely.get_parts(outline.buffer(-offset_m)), key=lambda g: g.area).exterior
    outer = outline.buffer(offset_m).exterior
    probes_in, probes_out = [], []
    for k in range(n):
        v = outline.exterior.interpolate(k / n, normalized=True)
        for ring, acc in ((inner, probes_in), (outer, probes_out)):
            p = ring.interpolate(ring.project(v))
            lon, lat = to_wgs.transform(p.x, p.y)
            acc.append([lat, lon])
    return probes_in, probes_out


def test_planner_map_lambert93_real_outline_screenshot(server, page, tmp_path):
    """The planner page draws the real commune boundaries in Lambert-93 with names, TAD zones, numbered lines,
    legend, scale, north arrow, caption and source line; the screenshot is kept (MOBILITY_SCREENSHOT_DIR)."""
    from pyproj import Transformer

    page.goto(f"{server}/planificateur/?to=france_services&date={DAY}&time=08:00&window=60&lang=fr")
    page.wait_for_selector("#map[data-ready='1']", timeout=60000)
    assert page.get_attribute("#map", "data-crs") == "EPSG:2154"
    # the page's projection is Lambert-93: same metres as pyproj for the Saint-Omer station
    xy = page.evaluate("(() => { const p = window.mobilityL93.project(L.latLng(50.75389, 2.26694));"
                       " return [p.x, p.y]; })()")
    ref = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True).transform(2.26694, 50.75389)
    assert abs(xy[0] - ref[0]) < 0.01 and abs(xy[1] - ref[1]) < 0.01, (xy, ref)
    assert page.locator("path.commune").count() == 89
    # the drawn outline is the real one: points 500 m inside it are on a commune, points 500 m outside are not
    page.locator("#map").scroll_into_view_if_needed()
    probes_in, probes_out = _outline_probes()
    hits = page.evaluate("""(probes) => {
        const map = window.mobilityPlannerMap, box = map.getContainer().getBoundingClientRect();
        return probes.map(([lat, lon]) => {
          const p = map.latLngToContainerPoint([lat, lon]);
          return document.elementsFromPoint(box.left + p.x, box.top + p.y)
            .some(e => e.classList && e.classList.contains('commune'));
        });
    }""", probes_in + probes_out)
    assert all(hits[:len(probes_in)]), hits[:len(probes_in)]
    assert not any(hits[len(probes_in):]), hits[len(probes_in):]
    import json

    feats = json.loads((Path(__file__).resolve().parent.parent / "data" / "communes.geojson").read_text("utf-8"))
    towns = {f["properties"]["name"] for f in feats["features"] if f["properties"]["population"] >= 2000}
    assert set(page.locator(".commune-label.main-town").all_text_contents()) == towns  # 2,000 residents or more
    shown = set(page.locator(".commune-label.main-town:not(.label-hidden)").all_inner_texts())
    assert shown == towns  # none hidden at the overview: a clashing name moves a little instead
    assert page.locator("path.tad-zone").count() == 4
    assert page.get_attribute("path.tad-zone >> nth=0", "fill") == "url(#tad-hatch)"
    assert set(page.locator(".tad-label").all_inner_texts()) >= {"TAD Pays de Lumbres", "TAD Pays de Fauquembergues"}
    assert {"1", "3", "4", "5", "R1", "R2", "R3", "R4"} <= set(page.locator(".line-number").all_text_contents())
    assert {"R1", "R2", "R3", "R4"} <= set(page.locator(".line-number:not(.label-hidden)").all_text_contents())
    legend = page.inner_text(".planner-legend")
    assert "Zone TAD" in legend and "France services" in legend and "Limite communale" in legend
    assert page.locator(".leaflet-control-scale-line").count() == 1 and page.locator(".north-arrow").count() == 1
    caption = page.inner_text("#map-caption")
    assert "1 décembre 2026" in caption and "08:00" in caption and "médiane" in caption and "TAD" in caption
    assert page.inner_text("#map-source").startswith(
        "Données : réseau reconstruit, limites IGN Admin Express, populations INSEE")
    out = Path(os.environ.get("MOBILITY_SCREENSHOT_DIR") or tmp_path) / "planner_map.png"
    page.locator("#map").screenshot(path=str(out))
    assert out.stat().st_size > 30_000
    # zoomed in, every commune is named
    page.evaluate("window.mobilityPlannerMap.setZoom(6)")
    page.wait_for_function("document.querySelectorAll('.commune-label').length === 89")
    assert page.locator(".commune-label:not(.label-hidden)").count() > 60
    assert not page.console_errors, page.console_errors
    # in English: legend, caption and source line follow the page language
    page.goto(f"{server}/planificateur/?to=france_services&date={DAY}&time=08:00&window=60&lang=en")
    page.wait_for_selector("#map[data-ready='1']", timeout=60000)
    assert "TAD zone (on-demand transport)" in page.inner_text(".planner-legend")
    caption = page.inner_text("#map-caption")
    assert "Tuesday" in caption and "1 December 2026" in caption and "median" in caption
    assert page.inner_text("#map-source").startswith(
        "Data: reconstructed network, IGN Admin Express boundaries, INSEE populations")
    assert not page.console_errors, page.console_errors

SATURDAY_ROUND_TRIP = ("from=Th%C3%A9rouanne&to=svc-001&date=2026-12-05&time=09%3A00&arrive_by=0&return_after_min=60"
                       "&booked_at=2026-11-30T10%3A00")
CAF_BEFORE_OPENING = ("from=12+rue+de+l%27%C3%89glise%2C+Th%C3%A9rouanne&to=caf&date=2026-12-02&time=09%3A30&arrive_by=1"
                      "&booked_at=2026-11-30T10%3A00")


@pytest.mark.parametrize("path", ["/itineraire?", "/operateur/imprimer?"])
def test_pages_show_the_day_change_the_wait_and_the_return_choices(server, page, path):
    page.goto(server + path + SATURDAY_ROUND_TRIP)
    banner = page.locator(".day-changed")
    assert banner.count() == 1 and banner.get_attribute("data-reason") == "site_closed"
    assert "samedi 5 décembre 2026" in banner.inner_text() and "lundi 7 décembre 2026" in banner.inner_text()
    assert "lundi 7 décembre 2026" in page.locator(".trip-day .day").inner_text()
    assert "samedi 5 décembre 2026" in page.locator(".trip-day .asked").inner_text()
    first = page.locator("article.card").first
    assert "lundi 7 décembre 2026" in first.locator(".card-day").inner_text()
    state = first.locator(".at-arrival")
    assert state.get_attribute("data-state") == "opens_later" and "attente" in state.inner_text()
    titles = page.locator(".return-options article.card h3").all_inner_texts()
    assert any("Premier retour" in t for t in titles) and any("Dernier retour" in t for t in titles)
    assert page.locator(".return-options .long-wait").count() >= 1  # the 2 h 45 wait at the station is flagged
    _no_errors(page)


def test_resident_page_offers_the_option_arriving_after_opening(server, page):
    page.goto(server + "/itineraire?" + CAF_BEFORE_OPENING)
    cards = page.locator("#results article.card")
    waits = cards.first.locator(".at-arrival")
    assert waits.get_attribute("data-state") == "opens_later" and "n'ouvre qu'à 08:30" in waits.inner_text()
    after = page.locator("#results article.card:has(.badge-after_opening)")
    assert after.count() == 1 and after.locator(".at-arrival").get_attribute("data-state") == "open"
    _no_errors(page)


@pytest.mark.parametrize("path", ["/itineraire?" + SATURDAY_ROUND_TRIP, "/itineraire?" + CAF_BEFORE_OPENING])
def test_axe_no_serious_violation_on_advice(server, browser, path):
    test_axe_no_serious_violation(server, browser, path)
