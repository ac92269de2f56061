/* Map of a journey over our own vector layers (communes, roads, lines, stops, TAD zones, services), served
   by the application: works with no internet. A tile layer is added only when the server configures one.
   (The planner page has its own Lambert-93 map with the isochrones: planner_map.js.) */
(function () {
  'use strict';
  var el = document.getElementById('map');
  if (!el || !window.L) { return; }
  var data = {};
  try { data = JSON.parse(document.getElementById('map-data').textContent || '{}') || {}; } catch (e) { data = {}; }
  var cfg = document.getElementById('map-config');
  var tileUrl = cfg ? cfg.getAttribute('data-tile-url') : '';
  var lang = document.documentElement.lang === 'en' ? 'en' : 'fr';
  // words of the page language, from the catalogs (mobility/locale): the JSON in base.html's #js-strings
  var STR = {};
  try { STR = JSON.parse((document.getElementById('js-strings') || {}).textContent || '{}') || {}; } catch (e) { STR = {}; }
  function tr(key) { return STR.hasOwnProperty(key) ? STR[key] : key; }
  var NAMES = { communes: tr('js_layer_communes'), roads: tr('js_layer_roads'), lines: tr('js_layer_lines'),
    stops: tr('js_layer_stops'), tad_zones: tr('js_layer_tad_zones'), services: tr('js_layer_services') };

  var map = L.map(el, { preferCanvas: true, zoomSnap: 0.5, keyboard: true });
  map.attributionControl.setPrefix(false);
  el.setAttribute('tabindex', '0');
  if (tileUrl) {
    L.tileLayer(tileUrl, { attribution: cfg.getAttribute('data-tile-attribution') || '', maxZoom: 19 }).addTo(map);
  }
  map.setView([50.70, 2.20], 10);

  function text(s) { var span = document.createElement('span'); span.textContent = s; return span; }
  var STYLES = {
    communes: { style: { color: '#6b6b6b', weight: 1, fillColor: '#dfe7ee', fillOpacity: 0.55 } },
    tad_zones: { style: { color: '#8a6d00', weight: 2, dashArray: '6 4', fillColor: '#fff4c2', fillOpacity: 0.25 } },
    roads: { style: { color: '#a8b3bd', weight: 1 } },
    lines: { style: function (f) { return { color: f.properties.color || '#555', weight: 3, opacity: 0.7 }; } },
    stops: { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 3, color: '#333', weight: 1, fillColor: '#fff', fillOpacity: 1 }); } },
    services: { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 6, color: '#fff', weight: 2, fillColor: '#0b4f8a', fillOpacity: 1 }); } }
  };
  var order = ['communes', 'tad_zones', 'roads', 'lines', 'stops', 'services'];
  var overlays = {};
  var control = L.control.layers(null, null, { collapsed: true }).addTo(map);
  var minZoom = { roads: 12, stops: 13 };
  var promises = order.map(function (name) {
    return fetch('/api/layers/' + name + '.geojson').then(function (r) { return r.ok ? r.json() : null; }).then(function (g) {
      if (!g) { return null; }
      var opts = STYLES[name];
      opts.onEachFeature = function (f, layer) {
        var label = f.properties.name || f.properties.short_name || f.properties.id;
        if (label) { layer.bindTooltip(text(label), { sticky: name !== 'stops' && name !== 'services' }); }
      };
      var layer = L.geoJSON(g, opts);
      overlays[name] = layer;
      control.addOverlay(layer, NAMES[name]);
      return layer;
    }).catch(function () { return null; });
  });

  function updateZoomLayers() {
    Object.keys(minZoom).forEach(function (name) {
      var layer = overlays[name];
      if (!layer) { return; }
      if (map.getZoom() >= minZoom[name]) { if (!map.hasLayer(layer)) { map.addLayer(layer); } }
      else if (map.hasLayer(layer)) { map.removeLayer(layer); }
    });
  }

  var trip = L.featureGroup();
  function drawLegs(legs, dashed) {
    (legs || []).forEach(function (leg) {
      if (!leg.geometry || !leg.geometry.coordinates) { return; }
      var ll = leg.geometry.coordinates.map(function (c) { return [c[1], c[0]]; });
      var walk = leg.mode === 'walk';
      L.polyline(ll, { color: walk ? '#1a1a1a' : (leg.mode === 'tad' ? '#8a6d00' : '#c8102e'), weight: walk ? 3 : 6,
                       dashArray: walk || dashed ? '4 6' : null, opacity: 0.9 }).addTo(trip);
    });
  }
  drawLegs(data.legs, false);
  drawLegs(data['return'], true);
  [['origin', '#1e6b30'], ['destination', '#c8102e']].forEach(function (p) {
    var pl = data[p[0]];
    if (pl && typeof pl.lat === 'number') {
      L.circleMarker([pl.lat, pl.lon], { radius: 9, color: '#fff', weight: 3, fillColor: p[1], fillOpacity: 1 })
        .bindTooltip(text(pl.name), { permanent: false }).addTo(trip);
    }
  });

  Promise.all(promises).then(function () {
    ['communes', 'tad_zones', 'lines', 'services'].forEach(function (n) { if (overlays[n]) { overlays[n].addTo(map); } });
    trip.addTo(map);
    if (trip.getLayers().length) { map.fitBounds(trip.getBounds().pad(0.15)); }
    else if (overlays.communes) { map.fitBounds(overlays.communes.getBounds()); }
    updateZoomLayers();
    el.setAttribute('data-ready', '1');
  });
  map.on('zoomend', updateZoomLayers);
})();
