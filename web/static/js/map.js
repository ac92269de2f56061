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
  var LEGEND = { title: tr('js_map_legend'), transit: tr('js_trip_transit'), tad: tr('js_trip_tad'), walk: tr('js_trip_walk'),
    back: tr('js_trip_back'), origin: tr('js_trip_origin'), destination: tr('js_trip_destination'), stop: tr('js_trip_stop'),
    site: tr('js_trip_site'), zone: tr('js_trip_zone'), line: tr('js_trip_line') };
  // names drawn on the map: main towns from zoom 10, every commune from 12, every stop from 15
  var LABEL_ZOOM = { mainTowns: 10, communes: 12, stops: 15 };

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
    services: { pointToLayer: function (f, ll) {  // town halls small (one per commune), other services larger
      var mairie = (f.properties.categories || []).length === 1 && f.properties.categories[0] === 'mairie';
      return L.circleMarker(ll, { radius: mairie ? 3 : 6, color: '#fff', weight: mairie ? 1 : 2, fillColor: '#0b4f8a',
                                  fillOpacity: mairie ? 0.7 : 1 }); } }
  };
  var order = ['communes', 'tad_zones', 'roads', 'lines', 'stops', 'services'];
  var overlays = {};
  var control = L.control.layers(null, null, { collapsed: true }).addTo(map);
  var minZoom = { roads: 12, stops: 13 };
  function nameMarker(ll, name, cls) {
    var span = document.createElement('span');
    span.textContent = name;
    return L.marker(ll, { icon: L.divIcon({ className: cls, html: span.outerHTML, iconSize: null }), interactive: false,
                          keyboard: false });
  }
  var townNames = L.layerGroup(), communeNames = L.layerGroup(), stopNames = L.layerGroup();
  var promises = order.map(function (name) {
    return fetch('/api/layers/' + name + '.geojson').then(function (r) { return r.ok ? r.json() : null; }).then(function (g) {
      if (!g) { return null; }
      (g.features || []).forEach(function (f) {
        var p = f.properties || {};
        if (name === 'communes' && p.label) {
          nameMarker([p.label[1], p.label[0]], p.name, p.main_town ? 'commune-label main-town' : 'commune-label')
            .addTo(p.main_town ? townNames : communeNames);
        } else if (name === 'stops' && f.geometry && f.geometry.coordinates) {
          nameMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], p.name, 'stop-label').addTo(stopNames);
        }
      });
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

  function toggle(layer, on) {
    if (!layer) { return; }
    if (on) { if (!map.hasLayer(layer)) { map.addLayer(layer); } }
    else if (map.hasLayer(layer)) { map.removeLayer(layer); }
  }
  function updateZoomLayers() {
    var z = map.getZoom();
    Object.keys(minZoom).forEach(function (name) { toggle(overlays[name], z >= minZoom[name]); });
    toggle(townNames, z >= LABEL_ZOOM.mainTowns);
    toggle(communeNames, z >= LABEL_ZOOM.communes);
    toggle(stopNames, z >= LABEL_ZOOM.stops);
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
  // the stops where the journey boards or gets off: always drawn and named, whatever the zoom
  (data.legs || []).forEach(function (leg) {
    if (leg.mode === 'walk') { return; }
    [leg.from, leg.to].forEach(function (pl) {
      if (!pl || typeof pl.lat !== 'number' || !pl.stop_id) { return; }
      L.circleMarker([pl.lat, pl.lon], { radius: 6, color: '#111', weight: 2, fillColor: '#fff', fillOpacity: 1, className: 'trip-stop' })
        .addTo(trip);
      nameMarker([pl.lat, pl.lon], pl.name, 'stop-label trip-stop-label').addTo(trip);
    });
  });
  function legend() {
    var Legend = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        var div = L.DomUtil.create('div', 'map-legend trip-legend');
        var line = function (c, w, dash) { return '<svg width="26" height="12" aria-hidden="true"><line x1="1" y1="6" x2="25" y2="6" stroke="' + c + '" stroke-width="' + w + '"' + (dash ? ' stroke-dasharray="' + dash + '"' : '') + '/></svg>'; };
        var dot = function (c, r, stroke) { return '<svg width="26" height="14" aria-hidden="true"><circle cx="13" cy="7" r="' + r + '" fill="' + c + '" stroke="' + (stroke || '#fff') + '" stroke-width="2"/></svg>'; };
        var rows = [[line('#c8102e', 5), LEGEND.transit], [line('#8a6d00', 5), LEGEND.tad], [line('#1a1a1a', 3, '4 4'), LEGEND.walk]];
        if ((data['return'] || []).length) { rows.push([line('#c8102e', 4, '4 6'), LEGEND.back]); }
        rows.push([dot('#1e6b30', 6), LEGEND.origin], [dot('#c8102e', 6), LEGEND.destination], [dot('#fff', 5, '#111'), LEGEND.stop],
                  [dot('#0b4f8a', 5), LEGEND.site],
                  ['<svg width="26" height="14" aria-hidden="true"><rect x="1" y="1" width="24" height="12" fill="#fff4c2" stroke="#8a6d00" stroke-width="2" stroke-dasharray="6 4"/></svg>', LEGEND.zone],
                  [line('#555', 3), LEGEND.line]);
        var h = document.createElement('p');
        h.className = 'legend-title';
        h.textContent = LEGEND.title;
        div.appendChild(h);
        var ul = document.createElement('ul');
        rows.forEach(function (r) {
          var li = document.createElement('li');
          li.innerHTML = r[0];
          var span = document.createElement('span');
          span.textContent = r[1];
          li.appendChild(span);
          ul.appendChild(li);
        });
        div.appendChild(ul);
        return div;
      }
    });
    new Legend().addTo(map);
  }
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
    legend();
    updateZoomLayers();
    el.setAttribute('data-ready', '1');
  });
  map.on('zoomend', updateZoomLayers);
})();
