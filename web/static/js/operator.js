/* Operator console: recent requests of the session (localStorage) and keyboard shortcuts (Alt+A address,
   Alt+I print, Alt+R recent requests, Alt+P previous (earlier) trips, Alt+N next (later) trips; not Alt+E
   or Alt+F, which open the browser's menu). */
(function () {
  'use strict';
  var KEY = 'mobility.recent';
  var MAX = 10;
  function load() {
    try { var v = JSON.parse(window.localStorage.getItem(KEY) || '[]'); return Array.isArray(v) ? v : []; }
    catch (e) { return []; }
  }
  function save(list) { try { window.localStorage.setItem(KEY, JSON.stringify(list.slice(0, MAX))); } catch (e) { /* private mode */ } }
  function qs(obj) { return Object.keys(obj).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(obj[k]); }).join('&'); }

  var entry = document.getElementById('recent-entry');
  var recent = load();
  if (entry) {
    try {
      var q = JSON.parse(entry.getAttribute('data-query'));
      var s = qs(q);
      recent = recent.filter(function (r) { return r.qs !== s; });
      recent.unshift({ qs: s, label: entry.getAttribute('data-label'), when: (q.date || '') + ' ' + (q.time || '') });
      save(recent);
    } catch (e) { /* ignore a malformed entry */ }
  }
  var ul = document.getElementById('recent-list');
  if (ul && recent.length) {
    ul.textContent = '';
    recent.forEach(function (r) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = '/operateur/?' + r.qs;
      a.textContent = r.label + ' (' + r.when + ')';
      a.setAttribute('aria-label', (ul.getAttribute('data-replan') || '') + ' : ' + a.textContent);
      li.appendChild(a);
      ul.appendChild(li);
    });
  }
  document.addEventListener('keydown', function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key.toLowerCase();
    if (k === 'a') { e.preventDefault(); document.getElementById('from').focus(); }
    else if (k === 'i') { var p = document.getElementById('print-link'); if (p) { e.preventDefault(); window.location.href = p.href; } }
    else if (k === 'p' || k === 'n') {  // previous (earlier) / next (later) trips
      var link = document.getElementById(k === 'p' ? 'earlier-link' : 'later-link');
      if (link) { e.preventDefault(); window.location.href = link.href; }
    }
    else if (k === 'r') { var first = document.querySelector('#recent-list a'); if (first) { e.preventDefault(); first.focus(); } }
  });
})();
