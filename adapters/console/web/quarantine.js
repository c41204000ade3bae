// Quarantine: the frames the ingress rejected, newest first, grouped by reason and by
// producer; a record's detail shows the fields that could be decoded and a hex view.
'use strict';
(function (OS) {
  const { el } = OS;
  const producerOf = (r) => r.source || (r.curve_key_name ? 'key ' + r.curve_key_name : r.peer_address || 'unknown');

  function hexView(hex) {
    const bytes = hex.match(/../g) || [];
    const lines = [];
    for (let off = 0; off < bytes.length; off += 16) {
      const chunk = bytes.slice(off, off + 16);
      const ascii = chunk.map((b) => { const c = parseInt(b, 16); return c >= 32 && c < 127 ? String.fromCharCode(c) : '.'; }).join('');
      lines.push(off.toString(16).padStart(6, '0') + '  ' + chunk.join(' ').padEnd(16 * 3) + ' ' + ascii);
    }
    return el('div', { class: 'hex', id: 'quarantine-hex' }, lines.join('\n') || '(no bytes kept)');
  }

  async function showDetail(panel, id) {
    OS.clear(panel).appendChild(el('p', { class: 'muted' }, 'Loading record ' + id + '…'));
    let r;
    try { r = await OS.api('/api/quarantine/show?id=' + encodeURIComponent(id)); } catch (e) {
      OS.clear(panel).appendChild(el('div', { class: 'message bad' }, 'Record ' + id + ': ' + e.message));
      return;
    }
    OS.clear(panel).appendChild(el('div', { class: 'panel', id: 'quarantine-detail' },
      el('h3', {}, 'Rejected frame #' + r.id),
      OS.fields([['reason', OS.badge('bad', r.reason)], ['description', r.description], ['received', r.received_at + ' (' + OS.ago(r.received_at_ns) + ')'],
        ['endpoint', `${r.endpoint} (frame ${r.frame_index} of its batch)`], ['source', r.source], ['event_id', r.event_id],
        ['order', OS.orderLink(r.order_id)], ['peer address', r.peer_address], ['CURVE key', r.curve_key_name], ['routing id', r.routing_id_hex],
        ['size', r.frame_size + ' bytes' + (r.frame_kept < r.frame_size ? ` (first ${r.frame_kept} kept)` : '')]]),
      el('h3', {}, 'Decoded fields'),
      OS.envelopeView(r.decoded),
      el('h3', {}, 'Bytes'),
      hexView(r.frame_hex || '')));
  }

  function chips(title, counts, active, onpick) {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    return el('div', { class: 'panel grow' }, el('h3', {}, title),
      el('div', { class: 'chips' }, entries.map(([k, n]) => el('span', { class: 'chip' + (active === k ? ' active' : ''), onclick: () => onpick(active === k ? '' : k) }, `${k} · ${n}`))));
  }

  OS.pages.quarantine = {
    async show(root) {
      const q = OS.hashQuery();
      OS.clear(root);
      root.appendChild(el('h2', {}, 'Quarantine'));
      const listBox = el('div', { id: 'quarantine-list' });
      const detail = el('div');
      root.append(listBox, detail);
      let r;
      const args = { limit: 500 };
      for (const k of ['reason', 'source', 'order']) if (q[k]) args[k] = q[k];
      try { r = await OS.api('/api/quarantine?' + new URLSearchParams(args)); } catch (e) {
        listBox.appendChild(el('div', { class: 'message bad' }, 'Cannot list the quarantine: ' + e.message));
        return;
      }
      const records = r.records;
      const byReason = {}, byProducer = {};
      for (const x of records) {
        const reason = x.reason.split(':')[0];
        byReason[reason] = (byReason[reason] || 0) + 1;
        byProducer[producerOf(x)] = (byProducer[producerOf(x)] || 0) + 1;
      }
      listBox.appendChild(el('p', { id: 'quarantine-summary' }, `${r.count} frame(s) kept (${OS.num(r.bytes)} bytes); ${r.dropped} dropped to stay within the caps. ` +
        `Showing the newest ${records.length}` + (q.reason || q.source || q.order ? ' matching the filter.' : '.')));
      if (!records.length) {
        listBox.appendChild(q.reason || q.source || q.order ? OS.empty('No rejected frames match', 'Clear the filter to see all of them.')
          : OS.empty('Nothing quarantined', 'Frames the ingress rejects — malformed, oversized, unknown schema version, missing fields — are kept here ' +
            'with the reason and the producer, so bad input can be diagnosed. None so far.'));
      } else {
        listBox.appendChild(el('div', { class: 'row' },
          chips('By reason', byReason, q.reason || '', (v) => OS.setHashQuery('quarantine', { ...q, reason: v, id: '' })),
          chips('By producer', byProducer, q.source || '', (v) => OS.setHashQuery('quarantine', { ...q, source: v, id: '' }))));
        listBox.appendChild(OS.table('quarantine-table', [
          { label: 'id', cell: (x) => x.id, num: true },
          { label: 'received', cell: (x) => OS.when(x.received_at_ns) },
          { label: 'reason', cell: (x) => OS.badge('bad', x.reason) },
          { label: 'producer', cell: (x) => producerOf(x) },
          { label: 'event', cell: (x) => el('span', { class: 'mono' }, x.event_id || '–') },
          { label: 'order', cell: (x) => x.order_id ? OS.orderLink(x.order_id) : '–' },
          { label: 'bytes', cell: (x) => x.frame_size, num: true },
        ], records, (x, tr) => { OS.select(tr); showDetail(detail, x.id); }));
      }
      if (q.id) await showDetail(detail, q.id);
    },
    hide() {},
  };
})(window.OS);
