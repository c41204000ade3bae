// Exceptions: events the engine recorded instead of applying (business rule, invalid
// input, parked too long, conflicting duplicate). Filter, inspect the recorded envelope
// decoded, and re-submit (replay) one or every exception the filter shows.
'use strict';
(function (OS) {
  const { el } = OS;
  const classes = ['', 'business_rule', 'invalid_input', 'missing_prerequisite', 'conflicting_duplicate'];
  const stages = ['', 'dedup', 'sequencing', 'lifecycle', 'routing', 'park_timeout'];

  async function replay(list, out, reload) {
    const orders = [...new Set(list.map((x) => x.order_id))];
    const ok = await OS.confirm('Replay exceptions', [
      `This re-submits the ${list.length} recorded event(s) of ${orders.length} order(s) (${orders.slice(0, 6).join(', ')}${orders.length > 6 ? ', …' : ''}) to the engine as replays.`,
      'Each is checked again from scratch: it may apply now, park again, become a new exception, or be dropped as a business duplicate ' +
        '(a fact never applies twice). The old exception record is removed once the new outcome is durable.',
      'Fix the cause first (e.g. the missing predecessor, the routing), or the same exception comes back.'], 'Replay ' + list.length);
    if (!ok) return;
    const r = await OS.runAction('/api/exceptions/replay', { ids: list.map((x) => x.id) }, out);
    if (!r) return;
    await reload();
    const counts = {};
    for (const x of r.results || []) counts[x.outcome] = (counts[x.outcome] || 0) + 1;
    OS.message(out, 'ok', `Re-submitted ${(r.results || []).length} event(s): ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') + '.');
  }

  async function showDetail(panel, x, out, reload) {
    OS.clear(panel).appendChild(el('p', { class: 'muted' }, 'Loading ' + x.id + '…'));
    let full;
    try { full = await OS.api('/api/exception?id=' + encodeURIComponent(x.id)); } catch (e) {
      OS.clear(panel).appendChild(el('div', { class: 'message bad' }, e.message));
      return;
    }
    OS.clear(panel).appendChild(el('div', { class: 'panel', id: 'exception-detail' },
      el('h3', {}, 'Exception ', el('span', { class: 'mono' }, full.id)),
      OS.fields([['order', OS.orderLink(full.order_id)], ['event', el('span', { class: 'mono' }, full.event_id)],
        ['class', OS.badge('bad', full.failure_class)], ['stage', full.stage], ['reason', full.reason],
        ['recorded', OS.utc(full.recorded_at_ns) + ' (' + OS.ago(full.recorded_at_ns) + ')'], ['envelope', full.envelope_size + ' bytes']]),
      el('h3', {}, 'Recorded event (decoded)'),
      OS.envelopeView(full.envelope),
      el('div', { class: 'actions' },
        el('button', { class: 'primary', id: 'exception-replay-one', disabled: !OS.session.actions_enabled, onclick: () => replay([full], out, reload) }, 'Replay this event'))));
  }

  OS.pages.exceptions = {
    async show(root) {
      const q = OS.hashQuery();
      OS.clear(root);
      root.appendChild(el('h2', {}, 'Exceptions'));
      const select = (name, values) => el('select', { name }, values.map((v) => el('option', { value: v, selected: (q[name] || '') === v }, v || 'any')));
      const form = el('form', { class: 'filters', id: 'exception-filters' },
        el('label', {}, 'Order', el('input', { name: 'order', value: q.order || '', placeholder: 'order id', size: 14 })),
        el('label', {}, 'Class', select('class', classes)),
        el('label', {}, 'Stage', select('stage', stages)),
        el('label', {}, 'Reason contains', el('input', { name: 'reason', value: q.reason || '', size: 14 })),
        el('label', {}, 'Older than', el('select', { name: 'older' }, Object.keys(OS.ageSeconds).map((k) => el('option', { value: k, selected: (q.older || '') === k }, k || 'any')))),
        el('button', { class: 'primary', type: 'submit' }, 'Filter'),
        el('button', { type: 'button', onclick: () => OS.setHashQuery('exceptions', {}) }, 'Clear'));
      form.addEventListener('submit', (e) => { e.preventDefault(); OS.setHashQuery('exceptions', Object.fromEntries(new FormData(form))); });
      const out = el('div', { id: 'exception-message' });
      const listBox = el('div', { id: 'exception-list' });
      const detail = el('div');
      root.append(form, out, listBox, detail);
      const filtered = Boolean(q.order || q.class || q.stage || q.reason || q.older);

      const reload = async () => {
        let r;
        const args = { limit: 5000 };
        if (q.order) args.order = q.order;
        if (q.class) args.class = q.class;
        try { r = await OS.api('/api/exceptions?' + new URLSearchParams(args)); } catch (e) {
          OS.clear(listBox).appendChild(el('div', { class: 'message bad' }, 'Cannot list exceptions: ' + e.message));
          return;
        }
        // Stage, reason and age are filtered here; order and class by the engine.
        const older = OS.ageSeconds[q.older || ''];
        const list = r.exceptions.filter((x) => (!q.stage || x.stage === q.stage) &&
          (!q.reason || x.reason.includes(q.reason)) && (!older || (Date.now() - x.recorded_at_ns / 1e6) / 1000 >= older));
        OS.clear(listBox);
        OS.clear(detail);
        if (!list.length) {
          listBox.appendChild(filtered ? OS.empty('No exceptions match these filters', 'Clear the filters to see all of them.')
            : OS.empty('No exceptions', 'Events the engine cannot apply — a business rule refuses them, their input is invalid, or they waited ' +
              'too long for a predecessor — are recorded here for a person to decide. There are none.'));
          return;
        }
        listBox.appendChild(el('div', { class: 'actions' },
          el('span', { id: 'exception-count' }, `${list.length} exception(s)`),
          el('button', { class: 'primary', id: 'exception-replay-all', disabled: !OS.session.actions_enabled, onclick: () => replay(list, out, reload) }, `Replay all ${list.length} shown`),
          OS.session.actions_enabled ? null : el('span', { class: 'muted' }, 'Read-only: the engine has no admin token configured.')));
        listBox.appendChild(OS.table('exception-table', [
          { label: 'order', cell: (x) => OS.orderLink(x.order_id) },
          { label: 'event', cell: (x) => el('span', { class: 'mono' }, x.event_id) },
          { label: 'class', cell: (x) => OS.badge(x.failure_class === 'missing_prerequisite' ? 'warn' : 'bad', x.failure_class) },
          { label: 'stage', cell: (x) => x.stage },
          { label: 'reason', cell: (x) => x.reason },
          { label: 'recorded', cell: (x) => OS.when(x.recorded_at_ns) },
        ], list, (x, tr) => { OS.select(tr); showDetail(detail, x, out, reload); }));
      };
      await reload();
    },
    hide() {},
  };
})(window.OS);
