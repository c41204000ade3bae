// Order: search an order by id and draw what `ordersync trace` prints as a timeline —
// events and their outcomes, parking, state totals, ERP commands (sent, retried,
// answered, dead-lettered) — with correlation / event / command ids linking related items.
'use strict';
(function (OS) {
  const { el } = OS;

  const outcomeState = (o) => !o ? 'info' : o === 'applied' ? 'ok' : o.startsWith('duplicate') ? 'idle' : o === 'parked' ? 'warn' : 'bad';
  const commandState = (s) => s === 'acknowledged' ? ['ok', 'posted'] : s === 'dead_lettered' ? ['bad', 'dead-lettered'] : s === 'in_outbox' ? ['warn', 'in outbox'] : ['idle', s || '–'];

  function highlight(root, attr, value) {
    for (const li of root.querySelectorAll('.timeline li')) {
      li.classList.toggle('highlight', value !== '' && li.dataset[attr] === value);
    }
  }

  function idLinks(root, s) {
    const parts = [];
    const link = (label, attr, value) => el('button', { class: 'link', title: 'highlight every item with this ' + label, onclick: () => highlight(root, attr, value) }, value);
    if (s.event_id) parts.push('event ', link('event id', 'event', s.event_id), '  ');
    if (s.correlation_id) parts.push('correlation ', link('correlation id', 'correlation', s.correlation_id), '  ');
    if (s.command_id) parts.push('command ', el('a', { href: '#cmd-' + s.command_id, onclick: (e) => { e.preventDefault(); const row = document.getElementById('cmd-' + s.command_id); if (row) { row.scrollIntoView({ block: 'center' }); OS.select(row); } } }, s.command_id));
    return el('div', { class: 'ids mono' }, parts);
  }

  function describe(s) {
    switch (s.kind) {
      case 'event_received':
        return [outcomeState(''), 'Event received: ' + (s.milestone || '?') + (s.source ? ' from ' + s.source : ''),
          s.occurred_at ? 'occurred ' + OS.utc(s.occurred_at_ns) : ''];
      case 'event_resolved': {
        const o = s.outcome || '?';
        const word = o === 'parked' ? 'Parked' : o === 'excepted' ? 'Exception' : o === 'applied' ? 'Applied' : o.replace('_', ' ');
        return [outcomeState(o), word + (s.milestone ? ': ' + s.milestone : '') + (s.reason ? ' — ' + s.reason : ''), ''];
      }
      case 'command_issued':
        return ['info', `Command issued: ${s.command_kind} #${s.order_cmd_seq || ''} → ${s.target}`, ''];
      case 'command_sent':
        return [s.attempt > 1 ? 'warn' : 'info', (s.attempt > 1 ? 'RETRY: sent again' : 'Sent') + ` to ${s.target} (attempt ${s.attempt || 1})`, ''];
      case 'command_acked':
        return ['ok', 'ERP answered Posted' + (s.erp_document_id ? ': document ' + s.erp_document_id : ''), s.attempt ? 'after ' + s.attempt + ' attempt(s)' : ''];
      case 'command_dead_lettered':
        return ['bad', 'Dead-lettered' + (s.reason ? ': ' + s.reason : ''), ''];
      default:
        return ['idle', s.kind, ''];
    }
  }

  function render(root, t) {
    const known = t.order_known || t.timeline.length || t.commands.length || t.parked.length || t.exceptions.length || t.quarantined.length;
    if (!known) {
      root.appendChild(OS.empty('No order ' + t.order_id,
        'ordersync has no record of it: no events, commands, parked events, exceptions or rejected frames. ' +
        'Check the id (it is case-sensitive); orders also expire after engine.order_retention_s.'));
      return;
    }
    const st = t.state || {};
    const stateWord = st.cancelled ? ['bad', 'cancelled'] : st.accepted ? ['ok', 'accepted'] : ['warn', 'not accepted yet'];
    root.appendChild(el('div', { class: 'panel', id: 'order-summary' },
      el('h3', {}, 'Order ', el('span', { class: 'mono' }, t.order_id), ' ', OS.badge(stateWord[0], stateWord[1])),
      OS.fields([['partition', t.partition], ['company code', st.company_code], ['currency', st.currency],
        ['totals', `ordered ${st.ordered}, reserved ${st.reserved}, picked ${st.picked}, shipped ${st.shipped}, returned ${st.returned}`],
        ['pending', `${t.parked.length} parked, ${t.exceptions.length} exception(s), ${t.commands.filter((c) => c.state === 'in_outbox').length} command(s) in the outbox, ` +
          `${t.commands.filter((c) => c.state === 'dead_lettered').length} dead-lettered, ${t.quarantined.length} rejected frame(s)`]])));

    const row = el('div', { class: 'row' });
    const left = el('div', { class: 'grow' }, el('h3', {}, 'Timeline'));
    if (!t.timeline.length) {
      left.appendChild(OS.empty('No journal entries', 'The journal is off (engine.journal = false) or has expired; the pending items are listed on the right.'));
    } else {
      const list = el('ol', { class: 'timeline', id: 'timeline' });
      t.timeline.forEach((s, i) => {
        const [state, what, extra] = describe(s);
        const totals = s.totals ? `totals: ordered ${s.totals.ordered}, reserved ${s.totals.reserved}, picked ${s.totals.picked}, shipped ${s.totals.shipped}, returned ${s.totals.returned}` : '';
        list.appendChild(el('li', { class: state + ' step', id: 'step-' + i, dataset: { kind: s.kind, event: s.event_id || '', correlation: s.correlation_id || '', command: s.command_id || '' } },
          el('div', { class: 'when' }, OS.utc(s.at_ns), s.since_previous_ns ? '  (+' + OS.duration(s.since_previous_ns / 1e9) + ')' : '', '  · ', OS.ago(s.at_ns)),
          el('div', { class: 'what' }, what),
          extra ? el('div', { class: 'muted' }, extra) : null,
          totals ? el('div', { class: 'muted' }, totals) : null,
          idLinks(root, s)));
      });
      left.appendChild(list);
    }
    row.appendChild(left);

    const right = el('div', { class: 'grow' });
    right.appendChild(el('h3', {}, 'ERP commands'));
    right.appendChild(t.commands.length ? OS.table('commands', [
      { label: 'seq', cell: (c) => c.order_cmd_seq || '', num: true },
      { label: 'command', cell: (c) => [c.command_kind, el('br'), el('span', { class: 'mono muted' }, c.command_id)] },
      { label: 'target', cell: (c) => c.target },
      { label: 'state', cell: (c) => { const s = commandState(c.state); return c.state === 'dead_lettered' ? el('a', { href: '#/dlq?order=' + encodeURIComponent(t.order_id) }, OS.badge(s[0], s[1])) : OS.badge(s[0], s[1]); } },
      { label: 'attempts', cell: (c) => c.attempts, num: true },
      { label: 'ERP document / message', cell: (c) => c.erp_document_id || c.message || '' },
      { label: 'issued', cell: (c) => c.issued_at_ns ? OS.when(c.issued_at_ns) : '' },
    ], t.commands) : el('p', { class: 'muted' }, 'No ERP commands issued for this order (yet).'));
    if (t.commands.length) {
      // Anchor ids on the rows, so timeline links can scroll to them.
      const rows = right.querySelectorAll('#commands tbody tr');
      t.commands.forEach((c, i) => { if (rows[i]) rows[i].id = 'cmd-' + c.command_id; });
    }
    if (t.parked.length) {
      right.appendChild(el('h3', {}, 'Parked events'));
      right.appendChild(OS.table('parked', [
        { label: 'event', cell: (p) => [p.milestone, el('br'), el('span', { class: 'mono muted' }, p.event_id)] },
        { label: 'waiting for', cell: (p) => OS.badge('warn', p.waiting_for) },
        { label: 'parked', cell: (p) => OS.when(p.parked_at_ns) },
        { label: 'times out', cell: (p) => p.deadline_ns ? OS.utc(p.deadline_ns) : '' }], t.parked));
    }
    if (t.exceptions.length) {
      right.appendChild(el('h3', {}, 'Exceptions ', el('a', { href: '#/exceptions?order=' + encodeURIComponent(t.order_id) }, '(open in Exceptions)')));
      right.appendChild(OS.table('order-exceptions', [
        { label: 'event', cell: (x) => el('span', { class: 'mono' }, x.event_id) },
        { label: 'class', cell: (x) => OS.badge('bad', x.class) }, { label: 'stage', cell: (x) => x.stage },
        { label: 'reason', cell: (x) => x.reason }, { label: 'recorded', cell: (x) => OS.when(x.recorded_at_ns) }], t.exceptions));
    }
    if (t.quarantined.length) {
      right.appendChild(el('h3', {}, 'Rejected frames'));
      right.appendChild(OS.table('order-quarantine', [
        { label: 'id', cell: (q) => el('a', { href: '#/quarantine?id=' + q.id }, String(q.id)) },
        { label: 'reason', cell: (q) => OS.badge('bad', q.reason) }, { label: 'source', cell: (q) => q.source || '' },
        { label: 'event', cell: (q) => el('span', { class: 'mono' }, q.event_id || '') },
        { label: 'received', cell: (q) => OS.when(q.received_at_ns) }], t.quarantined));
    }
    row.appendChild(right);
    root.appendChild(row);
  }

  OS.pages.order = {
    async show(root, arg) {
      const orderId = arg || '';
      OS.clear(root);
      root.appendChild(el('h2', {}, 'Order'));
      const input = el('input', { id: 'order-id', type: 'search', placeholder: 'order id, e.g. SO-1001', value: orderId, size: 32, autocomplete: 'off' });
      root.appendChild(el('form', { class: 'filters', id: 'order-search', onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) location.hash = '#/order/' + encodeURIComponent(input.value.trim()); } },
        el('label', {}, 'Order id', input), el('button', { class: 'primary', type: 'submit', id: 'order-go' }, 'Trace')));
      const out = el('div', { id: 'order-result' });
      root.appendChild(out);
      if (!orderId) {
        out.appendChild(OS.empty('Search an order', 'Type an order id to see its timeline: every event and what happened to it, ' +
          'the ERP commands it caused and how they were posted, and anything still waiting. Links from other pages open here too.'));
        input.focus();
        return;
      }
      out.appendChild(el('p', { class: 'muted' }, 'Tracing ' + orderId + '…'));
      try {
        const t = await OS.api('/api/orders/' + encodeURIComponent(orderId));
        OS.clear(out);
        render(out, t);
      } catch (e) {
        OS.clear(out).appendChild(el('div', { class: 'message bad' }, 'Cannot trace ' + orderId + ': ' + e.message));
      }
    },
    hide() {},
  };
})(window.OS);
