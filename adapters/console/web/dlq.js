// Dead letters: ERP commands the dispatcher gave up on (rejected, retries exhausted, no
// such target) and the later commands of their orders held back behind them. Filter,
// inspect the decoded command, replay (same command ids, in order) or purge — one, or
// every dead letter the filter shows.
'use strict';
(function (OS) {
  const { el } = OS;
  const reasonState = (r) => r === 'blocked' ? ['warn', 'blocked (behind another)'] : ['bad', r];

  function selectionOf(q) {
    const s = {};
    if (q.order) s.order = q.order;
    if (q.target) s.target = q.target;
    if (q.reason) s.reason = q.reason;
    if (OS.ageSeconds[q.older || ''] !== null && q.older) s.older_than_s = OS.ageSeconds[q.older];
    if (OS.ageSeconds[q.newer || ''] !== null && q.newer) s.newer_than_s = OS.ageSeconds[q.newer];
    return s;
  }
  const describeSelection = (s) => Object.keys(s).length ? Object.entries(s).map(([k, v]) => k + ' = ' + v).join(', ') : 'everything (no filter)';
  const orderList = (orders) => orders.slice(0, 6).join(', ') + (orders.length > 6 ? ` and ${orders.length - 6} more` : '');

  async function replay(selection, letters, out, reload) {
    const orders = [...new Set(letters.map((d) => d.order_id))];
    const targets = [...new Set(letters.map((d) => d.target))];
    const ok = await OS.confirm('Replay dead letters', [
      `This replays ${letters.length} dead letter(s) of ${orders.length} order(s): ${orderList(orders)}.`,
      `Their commands go back into the outbox with the SAME command ids and are posted again to ${targets.join(', ')}, ` +
        'each order in sequence. The ERP de-duplicates by command id: a command it already posted is answered AlreadyPosted, never posted twice.',
      'Fix the cause first (master data, mapping): a command the ERP rejects again comes back here.',
      'Selection sent: ' + describeSelection(selection) + '.'], 'Replay ' + letters.length);
    if (!ok) return;
    const r = await OS.runAction('/api/dlq/replay', selection, out);
    if (!r) return;
    await reload();
    const skipped = (r.skipped || []).map((s) => s.order_id + ': ' + s.why).join('; ');
    OS.message(out, skipped ? 'warn' : 'ok', `Replayed ${r.commands} command(s) of ${r.replayed.length} order(s) into the outbox (same command ids).` +
      (skipped ? ' Skipped: ' + skipped : ''));
  }

  async function purge(selection, letters, out, reload) {
    const orders = [...new Set(letters.map((d) => d.order_id))];
    const ok = await OS.confirm('Purge dead letters — cannot be undone', [
      `This permanently deletes ${letters.length} dead letter(s) of ${orders.length} order(s): ${orderList(orders)}.`,
      'Their commands will NEVER be posted to the ERP. Orders left without dead letters are unblocked and post their later commands.',
      'Use it only when the ERP already has the data by other means (e.g. entered by hand). The purge is logged with your name.',
      'Selection sent: ' + describeSelection(selection) + '.'], 'Purge ' + letters.length);
    if (!ok) return;
    const r = await OS.runAction('/api/dlq/purge', selection, out);
    if (!r) return;
    await reload();
    OS.message(out, 'ok', `Purged ${r.purged.length} dead letter(s); ${r.unblocked_orders.length} order(s) unblocked.`);
  }

  async function showDetail(panel, d, out, reload) {
    OS.clear(panel).appendChild(el('p', { class: 'muted' }, 'Loading ' + d.id + '…'));
    let full;
    try { full = await OS.api('/api/dlq/show?id=' + encodeURIComponent(d.id)); } catch (e) {
      OS.clear(panel).appendChild(el('div', { class: 'message bad' }, e.message));
      return;
    }
    const c = full.command || {};
    OS.clear(panel).appendChild(el('div', { class: 'panel', id: 'dlq-detail' },
      el('h3', {}, 'Dead letter ', el('span', { class: 'mono' }, full.id)),
      OS.fields([['order', OS.orderLink(full.order_id)], ['command', `${full.kind} #${full.order_cmd_seq}`], ['target', full.target],
        ['reason', OS.badge(reasonState(full.reason)[0], full.reason)], ['message', full.message], ['blocked by', full.blocked_by],
        ['attempts', full.attempts], ['dead-lettered', OS.utc(full.dead_lettered_at_ns) + ' (' + OS.ago(full.dead_lettered_at_ns) + ')'],
        ['needs review', full.needs_review ? 'yes — a compensation is involved' : '']]),
      el('h3', {}, 'Command (decoded)'),
      c.error ? el('p', { class: 'message bad' }, c.error) : OS.fields([['command_id', el('span', { class: 'mono' }, c.command_id)],
        ['kind', c.kind], ['order_cmd_seq', c.order_cmd_seq], ['correlation_id', c.correlation_id], ['caused by event', c.caused_by_event_id],
        ['company_code', c.company_code], ['business key', c.business_key], ['priority', c.priority], ['currency', c.currency],
        ['issued', c.issued_at_ns ? OS.utc(c.issued_at_ns) : '']]),
      (c.lines || []).length ? OS.linesTable(c.lines) : null,
      el('div', { class: 'actions' },
        el('button', { class: 'primary', id: 'dlq-replay-one', disabled: !OS.session.actions_enabled, onclick: () => replay({ ids: [full.id] }, [full], out, reload) }, 'Replay order ' + full.order_id),
        el('button', { class: 'danger', id: 'dlq-purge-one', disabled: !OS.session.actions_enabled, onclick: () => purge({ ids: [full.id] }, [full], out, reload) }, 'Purge this dead letter'))));
  }

  OS.pages.dlq = {
    async show(root) {
      const q = OS.hashQuery();
      OS.clear(root);
      root.appendChild(el('h2', {}, 'Dead letters'));
      const input = (name, placeholder) => el('input', { name, placeholder, value: q[name] || '', size: 14 });
      const select = (name, options) => el('select', { name }, options.map(([v, label]) => el('option', { value: v, selected: (q[name] || '') === v }, label)));
      const ages = [['', 'any'], ['5m', '5 min'], ['1h', '1 hour'], ['1d', '1 day'], ['7d', '7 days']];
      const form = el('form', { class: 'filters', id: 'dlq-filters' },
        el('label', {}, 'Order', input('order', 'order id')),
        el('label', {}, 'Target', input('target', 'ERP target')),
        el('label', {}, 'Reason', select('reason', [['', 'any'], ['rejected', 'rejected'], ['blocked', 'blocked'], ['retries_exhausted', 'retries exhausted'], ['unknown_target', 'unknown target']])),
        el('label', {}, 'Older than', select('older', ages)),
        el('label', {}, 'Newer than', select('newer', ages)),
        el('button', { class: 'primary', type: 'submit' }, 'Filter'),
        el('button', { type: 'button', onclick: () => OS.setHashQuery('dlq', {}) }, 'Clear'));
      form.addEventListener('submit', (e) => { e.preventDefault(); OS.setHashQuery('dlq', Object.fromEntries(new FormData(form))); });
      root.appendChild(form);
      const out = el('div', { id: 'dlq-message' });
      const listBox = el('div', { id: 'dlq-list' });
      const detail = el('div', { id: 'dlq-detail-box' });
      root.append(out, listBox, detail);
      const selection = selectionOf(q);

      const reload = async () => {
        let r;
        try { r = await OS.api('/api/dlq?' + new URLSearchParams({ ...selection, limit: 1000 })); } catch (e) {
          OS.clear(listBox).appendChild(el('div', { class: 'message bad' }, 'Cannot list dead letters: ' + e.message));
          return;
        }
        OS.clear(listBox);
        OS.clear(detail);
        const letters = r.dead_letters;
        const blocked = r.blocked_orders.filter((b) => b.state === 'blocked').length;
        if (!letters.length) {
          listBox.appendChild(Object.keys(selection).length
            ? OS.empty('No dead letters match these filters', 'Clear the filters to see all of them.')
            : OS.empty('No dead letters', 'Commands the ERP rejects, or that run out of retries, land here with the rest of their order ' +
              'held back so nothing posts out of sequence. Nothing is waiting for you.'));
          return;
        }
        listBox.appendChild(el('div', { class: 'actions' },
          el('span', { id: 'dlq-count' }, `${r.count} dead letter(s); ${blocked} order(s) blocked`),
          el('button', { class: 'primary', id: 'dlq-replay-all', disabled: !OS.session.actions_enabled, onclick: () => replay(Object.keys(selection).length ? selection : { all: true }, letters, out, reload) }, `Replay all ${letters.length} shown`),
          el('button', { class: 'danger', id: 'dlq-purge-all', disabled: !OS.session.actions_enabled, onclick: () => purge(Object.keys(selection).length ? selection : { all: true }, letters, out, reload) }, `Purge all ${letters.length} shown`),
          OS.session.actions_enabled ? null : el('span', { class: 'muted' }, 'Read-only: the engine has no admin token configured.')));
        listBox.appendChild(OS.table('dlq-table', [
          { label: 'order', cell: (d) => OS.orderLink(d.order_id) },
          { label: 'seq', cell: (d) => d.order_cmd_seq, num: true },
          { label: 'command', cell: (d) => [d.kind, el('br'), el('span', { class: 'mono muted' }, d.id)] },
          { label: 'target', cell: (d) => d.target },
          { label: 'reason', cell: (d) => OS.badge(...reasonState(d.reason)) },
          { label: 'message', cell: (d) => d.message + (d.needs_review ? ' (needs review)' : '') },
          { label: 'attempts', cell: (d) => d.attempts, num: true },
          { label: 'dead-lettered', cell: (d) => OS.when(d.dead_lettered_at_ns) },
        ], letters, (d, tr) => { OS.select(tr); showDetail(detail, d, out, reload); }));
      };
      await reload();
    },
    hide() {},
  };
})(window.OS);
