// Overview: the engine at a glance — throughput, ack latency, queues, parked, exceptions,
// outbox, dead letters, quarantine, ERP targets, SLO health, orders at risk — refreshed
// every sample interval (polling /api/overview), with charts of the last minutes.
'use strict';
(function (OS) {
  const { el } = OS;
  let timer = null;

  // [state, word] of each figure: ok (green), warn (amber), bad (red), idle (grey).
  function tileStates(f) {
    const slo = f.slo || {};
    const p99 = f.ack_latency_p99_s;
    return {
      received: f.received_per_s ? ['ok', 'flowing'] : ['idle', 'idle'],
      ack: p99 === null || p99 === undefined ? ['idle', 'no acks'] : p99 < 0.5 ? ['ok', 'fast'] : p99 < 2 ? ['warn', 'slow'] : ['bad', 'very slow'],
      queued: f.busy_per_s > 0 ? ['warn', 'shedding load'] : ['ok', f.queued > 0 ? 'working' : 'empty'],
      parked: f.parked > 0 ? ((f.orders_at_risk_by_reason || {}).parked > 0 ? ['bad', 'parked too long'] : ['warn', 'waiting']) : ['ok', 'none'],
      exceptions: f.exceptions_pending > 0 ? ['warn', 'to triage'] : ['ok', 'none'],
      outbox: f.oldest_unposted_command_s > slo.outbox_age_s ? ['bad', 'over SLO'] : f.outbox > 0 ? ['ok', 'posting'] : ['ok', 'empty'],
      dlq: f.dlq > 0 ? ['bad', 'needs action'] : ['ok', 'none'],
      quarantined: f.quarantined > 0 ? ['warn', 'rejected input'] : ['ok', 'none'],
      risk: f.orders_at_risk > 0 ? ['warn', 'at risk'] : ['ok', 'none'],
    };
  }

  function tile(id, label, value, state, note, href) {
    const body = [el('div', { class: 'label' }, label), el('div', { class: 'value' }, value),
      el('div', { class: 'state' }, state[1]), note ? el('div', { class: 'note' }, note) : null];
    return el('div', { class: 'tile ' + state[0], id: 'tile-' + id, dataset: { state: state[0] } },
      href ? el('a', { href }, body) : body);
  }

  const circuitState = (c) => c === 'closed' ? ['ok', 'closed'] : c === 'half_open' ? ['warn', 'half-open (probing)'] : c === 'open' ? ['bad', 'OPEN'] : ['idle', c || '–'];
  const sloState = (h) => h === 'ok' ? ['ok', 'OK'] : h === 'over_slo' ? ['bad', 'Over SLO'] : ['idle', 'No data yet'];

  function render(root, snap) {
    OS.clear(root);
    root.appendChild(el('h2', {}, 'Overview'));
    const f = snap.latest;
    if (!f) {
      root.appendChild(OS.empty('No figures yet', snap.error ? 'The engine did not answer: ' + snap.error
        : 'The first sample is taken when serve starts; this page refreshes by itself.'));
      return;
    }
    const states = tileStates(f);
    const ageS = (Date.now() - f.at_ns / 1e6) / 1000;
    const stale = ageS > 3 * snap.sample_interval_s + 2;
    const circuits = (f.targets || []).map((t) => circuitState(t.circuit)[0]);
    const all = Object.values(states).map((s) => s[0]).concat(circuits);
    const overall = stale || snap.error ? 'bad' : all.includes('bad') ? 'bad' : all.includes('warn') ? 'warn' : 'ok';
    const problems = [];
    if (stale) problems.push('figures are ' + OS.duration(ageS) + ' old');
    if (f.dlq > 0) problems.push(f.dlq + ' dead letter(s)');
    if ((f.targets || []).some((t) => t.circuit === 'open')) problems.push('an ERP circuit is open');
    if (f.exceptions_pending > 0) problems.push(f.exceptions_pending + ' exception(s) to triage');
    if (f.orders_at_risk > 0) problems.push(f.orders_at_risk + ' order(s) at risk');
    if (f.parked > 0) problems.push(f.parked + ' parked event(s)');
    const word = { ok: 'Healthy', warn: 'Attention', bad: 'Action needed' }[overall];
    root.appendChild(el('div', { class: 'banner ' + overall, id: 'health', dataset: { state: overall } }, word,
      el('span', { class: 'detail' }, problems.length ? problems.join(' · ') : 'events flow, the ERP posts, nothing waits for a person'),
      el('span', { class: 'detail muted', id: 'updated' }, 'updated ' + OS.utc(f.at_ns) + ' (' + OS.ago(f.at_ns) + ')')));

    const byClass = Object.entries(f.exceptions_by_class || {}).filter(([, v]) => v > 0).map(([k, v]) => k + ' ' + v).join(', ');
    const risk = f.orders_at_risk_by_reason || {};
    root.appendChild(el('div', { class: 'tiles' },
      tile('received', 'Events in', OS.num(f.received_per_s) + ' /s', states.received,
        'applied ' + OS.num(f.applied_per_s) + '/s · dup ' + OS.num((f.duplicate_exact_per_s || 0) + (f.duplicate_business_per_s || 0)) + '/s · rejected ' + OS.num(f.rejected_per_s) + '/s'),
      tile('ack', 'Ack latency p99', OS.duration(f.ack_latency_p99_s), states.ack, 'p50 ' + OS.duration(f.ack_latency_p50_s) + ' (last interval)'),
      tile('queued', 'Queued events', OS.num(f.queued), states.queued,
        f.deepest_partition !== null ? 'deepest: partition ' + f.deepest_partition + ' (' + OS.num(f.deepest_partition_depth) + ')' : ''),
      tile('parked', 'Parked events', OS.num(f.parked), states.parked, 'waiting for an earlier event'),
      tile('exceptions', 'Exceptions', OS.num(f.exceptions_pending), states.exceptions, byClass || 'pending in the queue', '#/exceptions'),
      tile('outbox', 'Outbox', OS.num(f.outbox), states.outbox, 'oldest ' + OS.duration(f.oldest_unposted_command_s)),
      tile('dlq', 'Dead letters', OS.num(f.dlq), states.dlq, 'commands the ERP refused', '#/dlq'),
      tile('quarantined', 'Quarantined frames', OS.num(f.quarantined), states.quarantined, 'malformed / out of contract', '#/quarantine'),
      tile('risk', 'Orders at risk', OS.num(f.orders_at_risk), states.risk,
        `parked ${OS.num(risk.parked)} · exception ${OS.num(risk.exception)} · outbox ${OS.num(risk.outbox)} · dead letter ${OS.num(risk.dead_letter)}`)));

    const targets = f.targets || [];
    const row = el('div', { class: 'row' });
    row.appendChild(el('div', { class: 'panel grow' }, el('h3', {}, 'ERP targets'),
      targets.length ? OS.table('targets', [
        { label: 'target', cell: (t) => t.target },
        { label: 'circuit', cell: (t) => { const s = circuitState(t.circuit); return OS.badge(s[0], s[1]); } },
        { label: 'posted /s', cell: (t) => OS.num(t.posted_per_s), num: true },
        { label: 'backlog', cell: (t) => OS.num(t.backlog), num: true },
        { label: 'in flight', cell: (t) => OS.num(t.in_flight), num: true },
        { label: 'outbox', cell: (t) => OS.num(t.outbox), num: true },
        { label: 'oldest unposted', cell: (t) => OS.duration(t.oldest_s), num: true },
        { label: 'dead letters', cell: (t) => t.dlq > 0 ? el('a', { href: '#/dlq?target=' + encodeURIComponent(t.target) }, OS.num(t.dlq)) : OS.num(t.dlq), num: true },
      ], targets) : OS.empty('No ERP targets reported yet', 'Targets appear after the first store scan.')));
    const slo = f.slo || {};
    const health = f.slo_health || {};
    const sloRow = (name, value, limit, h) => { const s = sloState(h); return { name, value, limit, s }; };
    const slos = [
      sloRow('order → ship p95', f.order_to_ship_p95_s, slo.order_to_ship_s, health.order_to_ship),
      sloRow('ship → invoice p95', f.ship_to_invoice_p95_s, slo.ship_to_invoice_s, health.ship_to_invoice),
      sloRow('oldest unposted command', f.oldest_unposted_command_s, slo.outbox_age_s, health.outbox_age),
    ];
    row.appendChild(el('div', { class: 'panel grow', id: 'slo' }, el('h3', {}, 'SLO health'),
      OS.table('slo-table', [
        { label: 'measure', cell: (r) => r.name }, { label: 'now', cell: (r) => OS.duration(r.value), num: true },
        { label: 'SLO', cell: (r) => OS.duration(r.limit), num: true }, { label: 'state', cell: (r) => OS.badge(r.s[0], r.s[1]) }], slos),
      el('p', { class: 'muted' }, `Orders at risk: ${OS.num(f.orders_at_risk)} — parked over ${OS.duration(slo.parked_s)}: ${OS.num(risk.parked)}, ` +
        `with an exception: ${OS.num(risk.exception)}, a command unposted over ${OS.duration(slo.outbox_age_s)}: ${OS.num(risk.outbox)}, a dead letter: ${OS.num(risk.dead_letter)}.`)));
    root.appendChild(row);

    const h = snap.history || [];
    const names = targets.map((t) => t.target);
    root.appendChild(el('h3', {}, 'Last minutes'));
    root.appendChild(el('div', { class: 'charts', id: 'charts' },
      OS.chart('Events in / applied per s', h, [{ name: 'in', get: (p) => p.received_per_s }, { name: 'applied', get: (p) => p.applied_per_s }], (v) => OS.num(v)),
      OS.chart('Ack latency p99', h, [{ name: 'p99', get: (p) => p.ack_latency_p99_s }], OS.duration),
      OS.chart('ERP posted per s', h, names.slice(0, 2).map((n) => ({ name: n, get: (p) => (p.posted_per_s || {})[n] })), (v) => OS.num(v)),
      OS.chart('Outbox / dead letters', h, [{ name: 'outbox', get: (p) => p.outbox }, { name: 'DLQ', get: (p) => p.dlq }], (v) => OS.num(v)),
      OS.chart('Parked / exceptions', h, [{ name: 'parked', get: (p) => p.parked }, { name: 'exceptions', get: (p) => p.exceptions_pending }], (v) => OS.num(v)),
      OS.chart('Queued / orders at risk', h, [{ name: 'queued', get: (p) => p.queued }, { name: 'at risk', get: (p) => p.orders_at_risk }], (v) => OS.num(v))));
    root.appendChild(el('p', { class: 'muted' }, `Sampled every ${snap.sample_interval_s} s from the engine (the figures of \`ordersync status\`). ` +
      'Depths and ages come from the engine\'s periodic store scan and may trail by its interval.'));
  }

  OS.pages.overview = {
    async show(root) {
      const tick = async () => {
        try {
          render(root, await OS.api('/api/overview'));
        } catch (e) {
          OS.clear(root).appendChild(el('div', { class: 'banner bad', id: 'health', dataset: { state: 'bad' } }, 'Console cannot reach the engine', el('span', { class: 'detail' }, e.message)));
        }
      };
      await tick();
      timer = setInterval(tick, Math.max(1, OS.session.sample_interval_s || 2) * 1000);
    },
    hide() { clearInterval(timer); timer = null; },
  };
})(window.OS);
