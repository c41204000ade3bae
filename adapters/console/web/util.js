// ordersync console: shared helpers (API calls, DOM building, formatting, charts, the
// token, dialogs). Plain browser JavaScript, no framework, nothing loaded from elsewhere.
// Every page module registers itself in OS.pages; app.js routes between them.
'use strict';
window.OS = { pages: {} };

(function (OS) {
  const TOKEN_KEY = 'ordersync.token';
  const OPERATOR_KEY = 'ordersync.operator';
  OS.session = { actions_enabled: false, token_header: 'X-Ordersync-Token', operator_header: 'X-Ordersync-Operator' };

  OS.token = () => sessionStorage.getItem(TOKEN_KEY) || '';
  OS.operator = () => sessionStorage.getItem(OPERATOR_KEY) || '';
  OS.setToken = (token, operator) => {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    if (operator) sessionStorage.setItem(OPERATOR_KEY, operator); else sessionStorage.removeItem(OPERATOR_KEY);
  };

  // GET /api/...: the parsed answer, or throws an Error with the server's message.
  OS.api = async (path) => {
    const res = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => ({ error: 'not JSON (HTTP ' + res.status + ')' }));
    if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
    return body;
  };

  // POST a mutating action with the token header: {ok, status, body}.
  OS.action = async (path, selection) => {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (OS.token()) headers[OS.session.token_header] = OS.token();
    if (OS.operator()) headers[OS.session.operator_header] = OS.operator();
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(selection), cache: 'no-store' });
    const body = await res.json().catch(() => ({ error: 'not JSON (HTTP ' + res.status + ')' }));
    return { ok: res.ok, status: res.status, body };
  };

  // el('td', {class: 'num', title: 'x'}, 'text', childNode, ...): text is never parsed as HTML.
  OS.el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  };
  OS.clear = (node) => { while (node.firstChild) node.removeChild(node.firstChild); return node; };

  // --- formatting -------------------------------------------------------------------
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  // "2026-11-26 19:04:57 UTC" from ns since the epoch (number or string).
  OS.utc = (ns) => {
    if (!ns) return '–';
    const d = new Date(Number(ns) / 1e6);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
      pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + ' UTC';
  };
  OS.duration = (s) => {
    if (s === null || s === undefined || Number.isNaN(s)) return '–';
    s = Math.abs(s);
    if (s < 0.001) return (s * 1e6).toFixed(0) + ' µs';
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 0) + ' ms';
    if (s < 120) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    if (s < 7200) return (s / 60).toFixed(0) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  };
  // "3 min ago" from ns since the epoch.
  OS.ago = (ns) => {
    if (!ns) return '';
    const s = (Date.now() - Number(ns) / 1e6) / 1000;
    return s < 1 ? 'just now' : OS.duration(s) + ' ago';
  };
  // A time cell: UTC with the relative age below.
  OS.when = (ns) => OS.el('span', { title: OS.utc(ns) }, OS.utc(ns), OS.el('br'), OS.el('span', { class: 'muted' }, OS.ago(ns)));
  OS.num = (v, digits) => {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    if (digits !== undefined) return Number(v).toFixed(digits);
    return Number.isInteger(v) ? v.toLocaleString('en-US') : Number(v).toFixed(v < 10 ? 1 : 0);
  };
  // A state badge: colour and a word (never colour alone).
  OS.badge = (state, word) => OS.el('span', { class: 'badge ' + state }, word);

  OS.message = (node, kind, text) => {
    OS.clear(node);
    if (text) node.appendChild(OS.el('div', { class: 'message ' + kind, role: 'status' }, text));
  };
  OS.empty = (title, text) => OS.el('div', { class: 'empty' }, OS.el('strong', {}, title), text);

  // A table: columns [{label, cell(row) -> node|text, num}], rows, optional onclick(row, tr).
  OS.table = (id, columns, rows, onclick) => {
    const head = OS.el('tr', {}, columns.map((c) => OS.el('th', { class: c.num ? 'num' : null }, c.label)));
    const body = OS.el('tbody', {}, rows.map((r) => {
      const tr = OS.el('tr', { class: onclick ? 'clickable' : null },
        columns.map((c) => OS.el('td', { class: c.num ? 'num' : null }, c.cell(r))));
      if (onclick) tr.addEventListener('click', (e) => { if (e.target.tagName !== 'A') onclick(r, tr); });
      return tr;
    }));
    return OS.el('table', { id }, OS.el('thead', {}, head), body);
  };
  OS.select = (tr) => {
    for (const other of tr.parentNode.querySelectorAll('tr.selected')) other.classList.remove('selected');
    tr.classList.add('selected');
  };

  OS.fields = (pairs) => OS.el('dl', { class: 'fields' },
    pairs.filter((p) => p && p[1] !== undefined && p[1] !== null && p[1] !== '').map(([k, v]) => [OS.el('dt', {}, k), OS.el('dd', {}, v)]));

  // The decoded envelope (adapters/producer/envelope_json.h) as fields and a lines table.
  OS.envelopeView = (decoded) => {
    if (!decoded || !decoded.decoded) {
      return OS.el('p', { class: 'muted' }, 'Not decodable: ' + ((decoded && decoded.why) || 'no bytes'));
    }
    const e = decoded.envelope;
    const payload = e.payload || {};
    const lines = payload.lines || [];
    const other = Object.entries(payload).filter(([k]) => k !== 'lines');
    return OS.el('div', {},
      OS.fields([
        ['milestone', e.milestone], ['event_id', e.event_id], ['order_id', orderLink(e.order_id)],
        ['correlation_id', e.correlation_id], ['source', e.source], ['source_seq', e.source_seq || ''],
        ['company_code', e.company_code], ['priority', e.priority], ['schema_version', e.schema_version],
        ['occurred_at', e.occurred_at_ns ? OS.utc(e.occurred_at_ns) + ' (' + OS.ago(e.occurred_at_ns) + ')' : ''],
        ['file identifier', decoded.file_identifier],
        ...other.map(([k, v]) => [k, String(v)]),
      ]),
      lines.length ? OS.linesTable(lines) : null);
  };
  OS.linesTable = (lines) => OS.table(null, [
    { label: 'line', cell: (l) => l.line_no, num: true }, { label: 'sku', cell: (l) => l.sku },
    { label: 'qty', cell: (l) => OS.num(l.qty), num: true }, { label: 'uom', cell: (l) => l.uom },
    { label: 'unit price (minor)', cell: (l) => OS.num(l.unit_price_minor), num: true }], lines);

  const orderLink = (id) => id ? OS.el('a', { href: '#/order/' + encodeURIComponent(id) }, id) : '';
  OS.orderLink = orderLink;

  // --- charts -----------------------------------------------------------------------
  // A small line chart of up to two series over the history's times (SVG, no library).
  OS.chart = (label, points, series, format) => {
    const W = 300, H = 70;
    const values = series.flatMap((s) => points.map((p) => s.get(p)).filter((v) => v !== null && v !== undefined));
    const max = Math.max(1e-9, ...values);
    const t0 = points.length ? points[0].at_ns : 0, t1 = points.length ? points[points.length - 1].at_ns : 1;
    const x = (p) => (t1 > t0 ? ((p.at_ns - t0) / (t1 - t0)) * W : 0);
    const y = (v) => H - 4 - (v / max) * (H - 10);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    const add = (tag, attrs) => {
      const n = document.createElementNS('http://www.w3.org/2000/svg', tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      svg.appendChild(n);
      return n;
    };
    add('line', { x1: 0, y1: H - 4, x2: W, y2: H - 4, class: 'axis' });
    series.forEach((s, i) => {
      const pts = points.filter((p) => s.get(p) !== null && s.get(p) !== undefined);
      if (!pts.length) return;
      const d = pts.map((p, j) => (j ? 'L' : 'M') + x(p).toFixed(1) + ',' + y(s.get(p)).toFixed(1)).join(' ');
      if (i === 0) add('path', { d: d + ` L${x(pts[pts.length - 1]).toFixed(1)},${H - 4} L${x(pts[0]).toFixed(1)},${H - 4} Z`, class: 'area' });
      add('path', { d, class: i === 0 ? 'line' : 'line2' });
    });
    const last = (s) => { for (let i = points.length - 1; i >= 0; --i) { const v = s.get(points[i]); if (v !== null && v !== undefined) return v; } return null; };
    const minutes = points.length > 1 ? Math.round((t1 - t0) / 6e10) : 0;
    return OS.el('div', { class: 'chart' },
      OS.el('div', { class: 'label' }, OS.el('span', {}, label),
        OS.el('span', { class: 'legend' }, series.map((s, i) => OS.el('span', { class: 'k' + (i + 1) }, s.name + ' ' + format(last(s)))))),
      svg,
      OS.el('div', { class: 'label' }, OS.el('span', {}, minutes ? `last ${minutes} min` : 'collecting…'), OS.el('span', {}, 'max ' + format(max === 1e-9 ? 0 : max))));
  };

  // --- dialogs ----------------------------------------------------------------------
  // Shows the confirmation; resolves true if confirmed. `text` is a list of paragraphs.
  OS.confirm = (title, paragraphs, okLabel) => new Promise((resolve) => {
    const dialog = document.getElementById('confirm-dialog');
    document.getElementById('confirm-title').textContent = title;
    const text = OS.clear(document.getElementById('confirm-text'));
    for (const p of paragraphs) text.appendChild(OS.el('p', {}, p));
    const ok = document.getElementById('confirm-ok');
    const cancel = document.getElementById('confirm-cancel');
    ok.textContent = okLabel || 'Do it';
    const done = (answer) => { ok.onclick = cancel.onclick = null; dialog.close(); resolve(answer); };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
  });

  OS.askToken = () => new Promise((resolve) => {
    const dialog = document.getElementById('token-dialog');
    const input = document.getElementById('token-input');
    const who = document.getElementById('operator-input');
    input.value = OS.token();
    who.value = OS.operator();
    const done = (saved) => { dialog.close(); OS.renderAuth(); resolve(saved); };
    document.getElementById('token-save').onclick = () => { OS.setToken(input.value.trim(), who.value.trim()); done(true); };
    document.getElementById('token-clear').onclick = () => { OS.setToken('', ''); done(false); };
    document.getElementById('token-cancel').onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    input.focus();
  });

  OS.renderAuth = () => {
    const auth = OS.clear(document.getElementById('auth'));
    if (!OS.session.actions_enabled) {
      auth.appendChild(OS.el('span', { id: 'auth-state', title: 'The engine has no [admin] token_file: replay and purge are off' }, 'Read-only (no admin token configured)'));
      return;
    }
    auth.appendChild(OS.el('span', { id: 'auth-state' }, OS.token() ? 'Token set' + (OS.operator() ? ' — ' + OS.operator() : '') : 'Read-only until you enter the token'));
    auth.appendChild(OS.el('button', { id: 'auth-button', onclick: () => OS.askToken() }, OS.token() ? 'Change token' : 'Enter token'));
  };

  // Runs a confirmed action and reports its outcome in `out`; true on success.
  OS.runAction = async (path, selection, out) => {
    const r = await OS.action(path, selection);
    if (!r.ok) {
      const hint = r.status === 401 ? ' Enter the admin token (top right) and try again.' : '';
      OS.message(out, 'bad', 'Refused: ' + (r.body.error || 'HTTP ' + r.status) + '.' + hint);
      return null;
    }
    return r.body;
  };

  // Query string of the hash ("#/dlq?order=x") as an object, and back.
  OS.hashQuery = () => Object.fromEntries(new URLSearchParams(location.hash.split('?')[1] || ''));
  OS.setHashQuery = (page, query) => {
    const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
    const target = '#/' + page + (q ? '?' + q : '');
    if (location.hash !== target) location.hash = target; else OS.route();
  };
  OS.ageSeconds = { '': null, '5m': 300, '1h': 3600, '1d': 86400, '7d': 604800 };
})(window.OS);
