/* Planner map (/planificateur/): the territory in Lambert-93 (EPSG:2154), drawn from the application's own
   layers (no tiles, no internet): commune boundaries with the names of the main towns (every name from zoom
   NAMES_ALL_ZOOM; a label that would overlap one of higher priority -- main towns by population, then line
   numbers, TAD zone names, other communes -- is hidden until zoomed in), TAD zones hatched and named, lines with their numbers, sites marked by category, the
   isochrones of the request; legend, scale bar, north arrow, caption and source line in the page language.
   Leaflet has no Lambert-93 CRS: the Lambert conformal conic projection (GRS80, IGN parameters) is below. */
(function () {
  'use strict';
  var el = document.getElementById('map');
  if (!el || !window.L) { return; }
  var lang = document.documentElement.lang === 'en' ? 'en' : 'fr';
  // words of the page language, from the catalogs (mobility/locale): the JSON in base.html's #js-strings
  var STR = {};
  try { STR = JSON.parse((document.getElementById('js-strings') || {}).textContent || '{}') || {}; } catch (e) { STR = {}; }
  function tr(key) { return STR.hasOwnProperty(key) ? STR[key] : key; }
  var T = {
    commune: tr('js_map_commune'),
    tad: tr('js_map_tad'),
    line: tr('js_map_line'),
    france_services: tr('js_map_france_services'),
    hospital: tr('js_map_hospital'),
    gare: tr('js_map_gare'),
    sous_prefecture: tr('js_map_sous_prefecture'),
    mairie: tr('js_map_mairie'),
    other: tr('js_map_other'),
    north: tr('js_map_north'),
    legend: tr('js_map_legend'),
    iso: tr('js_map_iso'),
    trips: tr('js_map_trips'),
    every: tr('js_map_every'),
    p50: tr('js_map_p50'),
    min: tr('js_map_min'),
    transit_tad: tr('js_map_transit_tad'),
    transit: tr('js_map_transit'),
    territory: tr('js_map_territory'),
    bands: tr('js_map_bands'),
    target_site: tr('js_map_target_site'),
    caption: tr('js_map_caption'),
    status: tr('js_map_status')
  };
  var SITE_STYLE = {
    france_services: '#1f4e9c', hospital: '#c51b7d', gare: '#000000', sous_prefecture: '#8c510a', mairie: '#6e6e6e'
  };
  var TAD_COLOUR = '#6a3d9a';
  var NAMES_ALL_ZOOM = 5.5;
  var BANDS = [[15, '#1a9850'], [30, '#91cf60'], [45, '#fee08b'], [60, '#fc8d59'], [90, '#d73027']];

  // ---------------------------------------------------------------- Lambert-93 (EPSG:2154), IGN parameters
  var A = 6378137, E = Math.sqrt(2 / 298.257222101 - 1 / (298.257222101 * 298.257222101));
  var D = Math.PI / 180, LON0 = 3 * D, X0 = 700000, Y0 = 6600000;
  function m(phi) { var s = Math.sin(phi); return Math.cos(phi) / Math.sqrt(1 - E * E * s * s); }
  function t(phi) { var s = Math.sin(phi); return Math.tan(Math.PI / 4 - phi / 2) / Math.pow((1 - E * s) / (1 + E * s), E / 2); }
  var P1 = 49 * D, P2 = 44 * D, P0 = 46.5 * D;
  var N = (Math.log(m(P1)) - Math.log(m(P2))) / (Math.log(t(P1)) - Math.log(t(P2)));
  var F = m(P1) / (N * Math.pow(t(P1), N));
  var RHO0 = A * F * Math.pow(t(P0), N);
  var LCC = {
    project: function (ll) {
      var rho = A * F * Math.pow(t(ll.lat * D), N), th = N * (ll.lng * D - LON0);
      return L.point(X0 + rho * Math.sin(th), Y0 + RHO0 - rho * Math.cos(th));
    },
    unproject: function (p) {
      var dx = p.x - X0, dy = RHO0 - (p.y - Y0);
      var rho = Math.sqrt(dx * dx + dy * dy), th = Math.atan2(dx, dy), tt = Math.pow(rho / (A * F), 1 / N);
      var phi = Math.PI / 2 - 2 * Math.atan(tt);
      for (var i = 0; i < 8; i++) {
        var s = Math.sin(phi);
        phi = Math.PI / 2 - 2 * Math.atan(tt * Math.pow((1 - E * s) / (1 + E * s), E / 2));
      }
      return L.latLng(phi / D, (th / N + LON0) / D);
    },
    bounds: L.bounds([100000, 6000000], [1300000, 7200000])
  };
  var CRS = L.extend({}, L.CRS.Earth, {
    code: 'EPSG:2154', projection: LCC, infinite: false,
    transformation: new L.Transformation(1, -100000, -1, 7200000),
    scale: function (z) { return Math.pow(2, z) / 2048; },   // pixels per metre: zoom 0 = 2048 m per pixel
    zoom: function (s) { return Math.log(s * 2048) / Math.LN2; }
  });
  window.mobilityL93 = LCC;  // for checks (the browser test compares with pyproj)

  var map = L.map(el, { crs: CRS, renderer: L.svg(), zoomSnap: 0.25, minZoom: 2, maxZoom: 11, keyboard: true });
  el.setAttribute('tabindex', '0');
  el.setAttribute('data-crs', 'EPSG:2154');
  window.mobilityPlannerMap = map;  // for checks (the browser test probes the drawn outline)
  map.attributionControl.setPrefix(false);
  var source = document.getElementById('map-source');
  if (source) { map.attributionControl.addAttribution(source.textContent); }
  map.setView([50.70, 2.20], 4);
  L.control.scale({ imperial: false, metric: true, position: 'bottomleft', maxWidth: 160 }).addTo(map);

  var North = L.Control.extend({
    options: { position: 'topleft' },
    onAdd: function () {
      var div = L.DomUtil.create('div', 'north-arrow');
      div.setAttribute('role', 'img');
      div.setAttribute('aria-label', T.north);
      div.innerHTML = '<svg width="28" height="40" viewBox="0 0 28 40" aria-hidden="true"><path d="M14 2 L24 30 L14 24 L4 30 Z" fill="#111"/>' +
        '<text x="14" y="39" text-anchor="middle" font-size="11" font-weight="bold">N</text></svg>';
      return div;
    }
  });
  new North().addTo(map);

  var labelled = [];  // [marker, priority]: a label overlapping one of higher priority is hidden
  // label(places, ...): places = [lat, lon] or a list of candidate [lat, lon], tried in turn
  function label(places, text, cls, priority) {
    var span = document.createElement('span');
    span.textContent = text;
    var candidates = typeof places[0] === 'number' ? [places] : places;
    var marker = L.marker(candidates[0], { icon: L.divIcon({ className: cls, html: span.outerHTML, iconSize: null }),
                                           interactive: false, keyboard: false });
    labelled.push([marker, priority, candidates]);
    return marker;
  }
  function declutter() {
    var kept = [];
    function clear(r) { return !kept.some(function (k) { return r.left < k.right && k.left < r.right && r.top < k.bottom && k.top < r.bottom; }); }
    labelled.slice().sort(function (a, b) { return b[1] - a[1]; }).forEach(function (entry) {
      var marker = entry[0], e = marker.getElement();
      if (!e || !map.hasLayer(marker)) { return; }
      e.classList.remove('label-hidden');
      var places = entry[2];
      if (places.length === 1) {  // a single anchor: try small moves around it (in pixels, as wide as the name)
        var w = e.firstChild.offsetWidth, h = e.firstChild.offsetHeight, base = map.latLngToLayerPoint(places[0]);
        places = [[0, 0], [0, -h], [0, h], [w * 0.45, -h / 2], [-w * 0.45, -h / 2]].map(function (d) {
          return map.layerPointToLatLng(base.add(L.point(d[0], d[1])));
        });
      }
      for (var i = 0; i < places.length; i++) {
        marker.setLatLng(places[i]);
        var r = e.firstChild.getBoundingClientRect();
        if (clear(r)) { kept.push(r); return; }
      }
      marker.setLatLng(entry[2][0]);
      e.classList.add('label-hidden');
    });
  }
  // where a line's number may go, best first: towards its far end (the lines meet in Saint-Omer)
  function numberPlaces(coords) {
    return [0.75, 0.6, 0.9, 0.45, 0.3, 0.15].map(function (f) {
      var c = coords[Math.min(coords.length - 1, Math.floor(coords.length * f))]; return [c[1], c[0]];
    });
  }
  function siteKind(cats) {
    for (var k in SITE_STYLE) { if (cats.indexOf(k) >= 0) { return k; } }
    return 'other';
  }
  function get(name) {
    return fetch('/api/layers/' + name + '.geojson').then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  var names = L.layerGroup(), allNames = L.layerGroup(), numbers = L.layerGroup();
  var layers = {};
  var draw = {
    communes: function (g) {
      layers.communes = L.geoJSON(g, { style: { color: '#3a3a3a', weight: 1, fillColor: '#f4f1ea', fillOpacity: 0.7, className: 'commune' },
        onEachFeature: function (f) {
          var p = f.properties, ll = [p.label[1], p.label[0]];
          label(ll, p.name, p.main_town ? 'commune-label main-town' : 'commune-label',
                (p.main_town ? 2e6 : 0) + p.population).addTo(p.main_town ? names : allNames);
        } });
      return layers.communes;
    },
    tad_zones: function (g) {
      return L.geoJSON(g, { style: { color: TAD_COLOUR, weight: 2, fillColor: 'url(#tad-hatch)', fillOpacity: 1, className: 'tad-zone' },
        onEachFeature: function (f) {
          var p = f.properties;
          if (p.label) { label([p.label[1], p.label[0]], p.name || p.id, 'tad-label', 1e6).addTo(names); }
        } });
    },
    lines: function (g) {
      return L.geoJSON(g, { style: function (f) { return { color: f.properties.color || '#555', weight: 3, opacity: 0.9 }; },
        onEachFeature: function (f) {
          var p = f.properties;
          if (!p.short_name) { return; }
          var m = label(numberPlaces(f.geometry.coordinates), p.short_name, 'line-number', 1.5e6);
          m.on('add', function () { var e = m.getElement(); if (e) { e.firstChild.style.background = p.color; } });
          m.addTo(numbers);
        } });
    },
    services: function (g) {
      return L.geoJSON(g, { pointToLayer: function (f, ll) {
        var kind = siteKind(f.properties.categories || []);
        return L.circleMarker(ll, { radius: kind === 'mairie' ? 2.5 : (kind === 'other' ? 3.5 : 6), color: '#fff', weight: 1,
                                    fillColor: SITE_STYLE[kind] || '#4d4d4d', fillOpacity: 1, className: 'site site-' + kind });
      }, onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); } });
    }
  };
  var order = ['communes', 'tad_zones', 'lines', 'services'];
  var promises = order.map(function (name) {
    return get(name).then(function (g) { return g ? draw[name](g) : null; });
  });

  function bandColour(tmin) {
    for (var i = 0; i < BANDS.length; i++) { if (tmin <= BANDS[i][0]) { return BANDS[i][1]; } }
    return BANDS[BANDS.length - 1][1];
  }
  var targets = [], total = 0;
  var isoUrl = el.getAttribute('data-isochrones');
  var caption = document.getElementById('map-caption');
  var legendBands = false;
  if (isoUrl) {
    var isoStatus = document.getElementById('iso-status');
    promises.unshift(fetch(isoUrl).then(function (r) { return r.json(); }).then(function (g) {
      if (!g.features) { if (isoStatus) { isoStatus.textContent = (g.error && g.error.message) || ''; } return null; }
      legendBands = true;
      var meta = g.properties || {};
      if (caption) {
        var w = (meta.window || '').split('-');
        var day = meta.date ? new Date(meta.date + 'T12:00:00').toLocaleDateString(lang === 'en' ? 'en-GB' : 'fr-FR',
          { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }) : '';
        caption.textContent = T.caption.replace('{stat}', meta.statistic === 'min' ? T.min : T.p50)
          .replace('{target}', meta.target || '').replace('{modes}', meta.modes === 'transit' ? T.transit : T.transit_tad)
          .replace('{day}', day)
          .replace('{every}', T.every.replace('{w0}', w[0] || '').replace('{w1}', w[1] || '').replace('{step}', meta.step_min)) + '.';
        caption.setAttribute('data-direction', meta.direction || 'to');
      }
      targets = meta.targets || [];
      total = meta.population_total || 0;
      var iso = L.geoJSON(g, { style: function (f) {
        return { color: '#333', weight: 1, fillColor: bandColour(f.properties.time_min), fillOpacity: 0.55, className: 'iso-band' }; },
        onEachFeature: function (f, layer) {
          layer.bindTooltip('≤ ' + f.properties.time_min + ' min — ' + Math.round(f.properties.population) + tr('js_map_residents'));
        } });
      var bands = g.features.slice().reverse();  // increasing time; populations are cumulative (≤ t)
      var fmt = function (x) { return Math.round(x).toLocaleString(lang === 'en' ? 'en-GB' : 'fr-FR'); };
      var pct = function (x) { return total ? (100 * x / total).toLocaleString(lang === 'en' ? 'en-GB' : 'fr-FR', { maximumFractionDigits: 1 }) : '–'; };
      if (isoStatus && bands.length) {
        var b30 = bands.filter(function (f) { return f.properties.time_min === 30; })[0] || bands[bands.length - 1];
        isoStatus.textContent = T.status.replace('{n}', fmt(b30.properties.population)).replace('{t}', b30.properties.time_min)
          .replace('{share}', pct(b30.properties.population));
      }
      var table = document.getElementById('iso-table');
      if (table) {
        var body = table.querySelector('tbody');
        body.textContent = '';
        var prev = 0, prevPop = 0;
        bands.forEach(function (f) {
          var row = document.createElement('tr');
          var th = document.createElement('th');
          th.setAttribute('scope', 'row');
          th.innerHTML = '<svg width="18" height="12" aria-hidden="true"><rect width="18" height="12" fill="' + bandColour(f.properties.time_min) + '" stroke="#333"/></svg> ';
          th.appendChild(document.createTextNode(prev + '–' + f.properties.time_min + ' min'));
          var band = f.properties.population - prevPop;
          var td1 = document.createElement('td'); td1.textContent = fmt(band);
          var td2 = document.createElement('td'); td2.textContent = pct(band) + ' %';
          row.appendChild(th); row.appendChild(td1); row.appendChild(td2);
          body.appendChild(row);
          prev = f.properties.time_min; prevPop = f.properties.population;
        });
        table.hidden = false;
      }
      return iso;
    }).catch(function () { return null; }));
  } else if (caption) {
    caption.textContent = T.territory;
  }

  function legend() {
    var Legend = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        var div = L.DomUtil.create('div', 'map-legend planner-legend');
        var rows = [
          ['<svg width="22" height="14" aria-hidden="true"><rect width="22" height="14" fill="url(#tad-hatch)" stroke="' + TAD_COLOUR + '" stroke-width="2"/></svg>', T.tad],
          ['<svg width="22" height="14" aria-hidden="true"><rect x="1" y="1" width="20" height="12" fill="#f4f1ea" stroke="#3a3a3a"/></svg>', T.commune],
          ['<svg width="22" height="14" aria-hidden="true"><line x1="0" y1="7" x2="22" y2="7" stroke="#3b6fb6" stroke-width="3"/></svg>', T.line]
        ];
        ['france_services', 'hospital', 'gare', 'sous_prefecture', 'mairie', 'other'].forEach(function (k) {
          rows.push(['<svg width="22" height="14" aria-hidden="true"><circle cx="11" cy="7" r="5" fill="' + (SITE_STYLE[k] || '#4d4d4d') + '"/></svg>', T[k]]);
        });
        if (legendBands) {
          rows.push(['<svg width="22" height="16" aria-hidden="true"><path d="M11 1 L13.6 6.6 L20 7.2 L15.2 11.4 L16.6 17.6 L11 14.4 L5.4 17.6 L6.8 11.4 L2 7.2 L8.4 6.6 Z" fill="#d7191c" stroke="#000"/></svg>', T.target_site]);
          rows.push(['', T.bands, 'legend-subtitle']);
          var prev = 0;
          BANDS.slice(0, 4).forEach(function (b) {
            rows.push(['<svg width="22" height="14" aria-hidden="true"><rect width="22" height="14" fill="' + b[1] + '" fill-opacity="0.55" stroke="#333"/></svg>', prev + '–' + b[0] + ' min', 'legend-band']);
            prev = b[0];
          });
        }
        var h = document.createElement('p');
        h.className = 'legend-title';
        h.textContent = T.legend;
        div.appendChild(h);
        var ul = document.createElement('ul');
        rows.forEach(function (r) {
          var li = document.createElement('li');
          if (r[2]) { li.className = r[2]; }
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
  function drawTargets() {  // the sites the times are measured to: a star and their name
    targets.forEach(function (p) {
      var icon = L.divIcon({ className: 'target-site', iconSize: [22, 22], iconAnchor: [11, 11],
        html: '<svg width="22" height="22" viewBox="0 0 22 20" aria-hidden="true"><path d="M11 1 L13.6 6.6 L20 7.2 L15.2 11.4 L16.6 17.6 L11 14.4 L5.4 17.6 L6.8 11.4 L2 7.2 L8.4 6.6 Z" fill="#d7191c" stroke="#000"/></svg>' });
      L.marker([p.lat, p.lon], { icon: icon, keyboard: false, title: p.name, alt: p.name }).bindTooltip(p.name).addTo(map);
      label([p.lat, p.lon], p.name, 'target-label', 2.5e6).addTo(names);
    });
  }

  function updateNames() {
    var all = map.getZoom() >= NAMES_ALL_ZOOM;
    if (all && !map.hasLayer(allNames)) { allNames.addTo(map); }
    if (!all && map.hasLayer(allNames)) { map.removeLayer(allNames); }
    declutter();
  }

  Promise.all(promises).then(function (drawn) {
    drawn.forEach(function (layer) { if (layer) { layer.addTo(map); } });
    if (layers.communes) { layers.communes.bringToBack(); }  // isochrones (drawn first, largest first) above it
    drawTargets();
    names.addTo(map);
    numbers.addTo(map);
    legend();
    if (layers.communes) { map.fitBounds(layers.communes.getBounds(), { padding: [10, 10], animate: false }); }
    updateNames();
    map.on('zoomend', updateNames);
    el.setAttribute('data-ready', '1');
  });
})();
