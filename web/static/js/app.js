/* Progressive enhancement of the forms: accessible autocomplete (ARIA combobox), focus on results, print.
   Vanilla JS, no framework; everything works without it. */
(function () {
  'use strict';
  var lang = document.documentElement.lang === 'en' ? 'en' : 'fr';
  // words of the page language, from the catalogs (mobility/locale): the JSON in base.html's #js-strings
  var STR = {};
  try { STR = JSON.parse((document.getElementById('js-strings') || {}).textContent || '{}') || {}; } catch (e) { STR = {}; }
  function tr(key) { return STR.hasOwnProperty(key) ? STR[key] : key; }
  var KINDS = {
    address: tr('js_kind_address'), street: tr('js_kind_street'), commune: tr('js_kind_commune'),
    stop: tr('js_kind_stop'), service: tr('js_kind_service'), category: tr('js_kind_category'), point: tr('js_kind_point'),
    none: tr('js_no_suggestion'), count: tr('js_suggestions')
  };
  var servicesPromise = null;

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); });
  }
  function services() {
    if (!servicesPromise) {
      servicesPromise = getJSON('/api/services?lang=' + lang).catch(function () { return { categories: [], services: [] }; });
    }
    return servicesPromise;
  }
  function norm(s) {
    return (s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  }
  function matches(text, words) {
    var t = norm(text);
    return words.every(function (w) { return t.indexOf(w) !== -1; });
  }

  var status = null;
  function announce(msg) {
    if (!status) {
      status = document.createElement('div');
      status.className = 'visually-hidden';
      status.setAttribute('role', 'status');
      status.setAttribute('aria-live', 'polite');
      document.body.appendChild(status);
    }
    status.textContent = msg;
  }

  function setup(input) {
    var mode = input.getAttribute('data-autocomplete');
    var focused = document.activeElement === input || input.hasAttribute('autofocus');
    var wrap = document.createElement('div');
    wrap.className = 'ac-wrap';
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);  // moving the field loses its focus: give it back
    if (focused) { input.focus(); }
    var list = document.createElement('ul');
    list.className = 'ac-list';
    list.id = input.id + '-list';
    list.setAttribute('role', 'listbox');
    var label = document.querySelector('label[for="' + input.id + '"]');
    list.setAttribute('aria-label', label ? label.textContent : input.id);
    list.hidden = true;
    list.tabIndex = -1;  // options are reached with the arrow keys; Tab goes on to the next field
    wrap.appendChild(list);
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    var items = [], active = -1, timer = null, seq = 0;
    var idField = input.id === 'to' ? document.getElementById('to-id') : null;

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
      active = -1;
    }
    function cancel() {  // close and drop the answers still on their way
      clearTimeout(timer);
      seq++;
      close();
    }
    function highlight(i) {
      var lis = list.children;
      for (var k = 0; k < lis.length; k++) { lis[k].setAttribute('aria-selected', k === i ? 'true' : 'false'); }
      active = i;
      if (i >= 0 && lis[i]) {
        input.setAttribute('aria-activedescendant', lis[i].id);
        lis[i].scrollIntoView({ block: 'nearest' });
      }
    }
    function render() {
      list.textContent = '';
      items.forEach(function (it, i) {
        var li = document.createElement('li');
        li.id = list.id + '-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.setAttribute('data-index', String(i));
        li.appendChild(document.createTextNode(it.label));
        var kind = document.createElement('span');
        kind.className = 'ac-kind';
        kind.textContent = '(' + (KINDS[it.kind] || it.kind) + ')';
        li.appendChild(kind);
        list.appendChild(li);
      });
      if (items.length && document.activeElement === input) {
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
      } else {
        close();
      }
      announce(items.length ? items.length + KINDS.count : KINDS.none);
      active = -1;
    }
    function choose(i) {
      var it = items[i];
      if (!it) { return; }
      input.value = it.value;
      if (idField) { idField.value = it.id || ''; }  // the id goes with the name the field shows
      clearError(input);
      cancel();  // a search still pending from the typing must not reopen the list
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
    function query() {
      var q = input.value.trim();
      var mine = ++seq;
      if (q.length < 2) { items = []; render(); return; }
      var words = norm(q).split(' ').filter(Boolean);
      var geo = getJSON('/api/geocode?limit=6&q=' + encodeURIComponent(q.slice(0, 200)))
        .then(function (d) { return d.results || []; }).catch(function () { return []; });
      var svc = mode === 'place' ? services() : Promise.resolve(null);
      Promise.all([geo, svc]).then(function (res) {
        if (mine !== seq) { return; }
        var out = [];
        if (res[1]) {
          res[1].categories.forEach(function (c) {
            if (matches(c.label + ' ' + c.key, words)) { out.push({ label: c.label, kind: 'category', value: c.label, id: c.key }); }
          });
          res[1].services.forEach(function (s) {
            if (out.length < 8 && matches(s.name + ' ' + s.commune, words)) {
              out.push({ label: s.name + ' (' + s.commune + ')', kind: 'service', value: s.name + ' (' + s.commune + ')', id: s.id });
            }
          });
        }
        res[0].forEach(function (r) {
          if (out.length < 12 && !(res[1] && r.kind === 'service')) { out.push({ label: r.label, kind: r.kind, value: r.label }); }
        });
        items = out;
        render();
      });
    }
    input.addEventListener('input', function () {
      if (idField) { idField.value = ''; }  // typed text: no longer the picked site
      clearTimeout(timer); timer = setTimeout(query, 120);
    });
    input.addEventListener('keydown', function (e) {
      if (list.hidden) { return; }
      if (e.key === 'ArrowDown') { e.preventDefault(); highlight((active + 1) % items.length); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1); }
      else if (e.key === 'Enter') { if (active >= 0) { e.preventDefault(); choose(active); } else { close(); } }
      else if (e.key === 'Escape') { e.preventDefault(); cancel(); }
    });
    input.addEventListener('keydown', function (e) { if (e.key === 'Escape' && list.hidden) { cancel(); } });
    input.addEventListener('blur', function () { setTimeout(cancel, 150); });
    list.addEventListener('mousedown', function (e) {
      var li = e.target.closest('li');
      if (li) { e.preventDefault(); choose(parseInt(li.getAttribute('data-index'), 10)); }
    });
  }

  // Field-level errors: the server marks a faulty field (aria-invalid, message in aria-describedby); the same
  // is done here before sending for an empty required field. The focus goes to the first faulty field.
  function clearError(field) {
    if (field.getAttribute('aria-invalid') !== 'true') { return; }
    field.removeAttribute('aria-invalid');
    var msg = document.getElementById(field.id + '-error');
    if (msg && msg.getAttribute('data-client') === '1') { msg.parentNode.removeChild(msg); }
    var ids = (field.getAttribute('aria-describedby') || '').split(' ').filter(function (x) { return x && x !== field.id + '-error'; });
    if (ids.length) { field.setAttribute('aria-describedby', ids.join(' ')); } else { field.removeAttribute('aria-describedby'); }
  }
  function markError(field, text) {
    var msg = document.getElementById(field.id + '-error');
    if (!msg) {
      msg = document.createElement('p');
      msg.id = field.id + '-error';
      msg.className = 'field-error';
      msg.setAttribute('data-client', '1');
      var after = field.closest('.ac-wrap') || field;
      after.parentNode.insertBefore(msg, after.nextSibling);
    }
    msg.textContent = text;
    field.setAttribute('aria-invalid', 'true');
    var ids = (field.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (ids.indexOf(msg.id) < 0) { ids.unshift(msg.id); }
    field.setAttribute('aria-describedby', ids.join(' '));
  }
  document.querySelectorAll('form.plan-form').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      var first = null;
      form.querySelectorAll('[required][data-err-empty]').forEach(function (field) {
        if (!String(field.value || '').trim()) {
          markError(field, field.getAttribute('data-err-empty'));
          if (!first) { first = field; }
        }
      });
      if (first) { e.preventDefault(); first.focus(); }
    });
    form.querySelectorAll('[data-err-empty]').forEach(function (field) {
      field.addEventListener('change', function () { if (String(field.value || '').trim()) { clearError(field); } });
    });
  });

  document.querySelectorAll('input[data-autocomplete]').forEach(setup);

  // After a search, move the focus to the first faulty field, else to the results so screen readers read them.
  var invalid = document.querySelector('form [aria-invalid="true"]');
  var heading = document.getElementById('results-h');
  if (invalid) {
    invalid.focus();
  } else if (heading && heading.getAttribute('tabindex') === '-1' && !document.querySelector('[autofocus]')) {
    heading.focus();
  }
  var printButton = document.getElementById('print-button');
  if (printButton) { printButton.addEventListener('click', function () { window.print(); }); }
})();
