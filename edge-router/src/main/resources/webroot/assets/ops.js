// The operator console (/ops): served by the edge from webroot/assets (edge-router/API.md).
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const KEY = 'genmesh.adminKey';
  const TIERS = ['turbo', 'fast', 'relax'];
  const COLORS = { turbo: '#e8590c', fast: '#3b5bdb', relax: '#2b8a3e' };
  let samples = [];
  let generation = 0;

  function key() { return localStorage.getItem(KEY) || ''; }
  function cls(good, bad) { return good ? 'ok' : (bad ? 'bad' : 'warn'); }
  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text == null ? '—' : String(text);
    if (className) td.className = className;
    return td;
  }
  function table(id, head, rows) {
    const t = $(id);
    t.replaceChildren();
    const tr = document.createElement('tr');
    head.forEach((h) => { const th = document.createElement('th'); th.textContent = h; tr.append(th); });
    t.append(tr);
    if (!rows.length) { const r = document.createElement('tr'); const c = cell('none'); c.colSpan = head.length; c.className = 'muted'; r.append(c); t.append(r); }
    rows.forEach((cells) => { const r = document.createElement('tr'); cells.forEach((c) => r.append(c)); t.append(r); });
  }
  function secs(ms) { return ms == null ? '—' : (ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s'); }
  function time(at) { return at ? new Date(at).toLocaleTimeString() : '—'; }
  function showError(text) { $('error').textContent = text; $('error').classList.toggle('hidden', !text); }

  function render(snap) {
    const regions = snap.regions || {};
    const edge = (snap.edge || {}).regions || {};
    const fo = ((snap.edge || {}).failover || {});
    const names = Object.keys(regions).sort();
    table('regions', ['region', 'edge sees', 'failover', 'ready', 'fenced', 'queued', 'problem'], names.map((n) => {
      const r = regions[n], h = edge[n] || {}, st = r.status || {}, f = (fo.regions || {})[n] || {};
      return [cell(n), cell(h.status, cls(h.status === 'healthy', h.status === 'unhealthy')),
        cell(fo.enabled ? f.state + (f.serving && f.serving !== n ? ' → ' + f.serving : '') : 'off', f.state === 'down' ? 'bad' : ''),
        cell(r.status ? (st.ready ? 'yes' : 'no') : 'unreachable', cls(st.ready, !r.status)),
        cell(r.status ? (st.fenced ? 'yes' : 'no') : null, st.fenced ? 'bad' : ''),
        cell(st.queued), cell(st.problem || h.reason || Object.values(r.errors || {})[0])];
    }));
    const qrows = [];
    names.forEach((n) => {
      const q = ((regions[n].ops || {}).queues) || {};
      TIERS.forEach((t) => { if (q[t]) qrows.push([cell(n), cell(t), cell(q[t].depth), cell(secs(q[t].oldest_wait_ms))]); });
    });
    table('queues', ['region', 'tier', 'depth', 'oldest wait'], qrows);

    const wrows = [];
    names.forEach((n) => (regions[n].workers || []).forEach((w) => wrows.push([cell(n), cell(w.worker_id), cell(w.gpu_class),
      cell(w.state, cls(w.state === 'healthy', ['unhealthy', 'gone', 'not_live'].includes(w.state))),
      cell((w.active_requests || []).length != null ? (w.active_requests || []).length : w.active_requests),
      cell((w.loaded_models || []).join(', '))])));
    const byClass = {};
    names.forEach((n) => (regions[n].workers || []).forEach((w) => {
      const k = n + ' ' + (w.gpu_class || '?'); byClass[k] = byClass[k] || {}; byClass[k][w.state] = (byClass[k][w.state] || 0) + 1;
    }));
    Object.keys(byClass).sort().forEach((k) => wrows.unshift([cell(k.split(' ')[0]), cell('per GPU class', 'muted'), cell(k.split(' ')[1]),
      cell(Object.entries(byClass[k]).map(([s, c]) => c + ' ' + s).join(', ')), cell(''), cell('')]));
    table('workers', ['region', 'worker', 'GPU', 'state', 'active', 'models'], wrows);

    const brows = [];
    names.forEach((n) => {
      const b = ((regions[n].ops || {}).breakers) || {};
      if (b.global) brows.push([cell(n), cell('global'), cell(b.global.state, cls(b.global.state === 'closed', b.global.state === 'open')),
        cell('failure rate ' + (100 * (b.global.failure_rate || 0)).toFixed(1) + '%' + ((b.global.shed_tiers || []).length ? ', shedding ' + b.global.shed_tiers.join(', ') : ''))]);
      Object.entries(b.models || {}).forEach(([m, s]) => brows.push([cell(n), cell('model ' + m), cell(s, cls(s === 'closed', s === 'open')), cell('')]));
      Object.entries(b.workers || {}).forEach(([w, s]) => brows.push([cell(n), cell('worker ' + w), cell(s, cls(s === 'closed', s === 'open')), cell('')]));
    });
    table('breakers', ['region', 'breaker', 'state', ''], brows);

    const decisions = [];
    names.forEach((n) => (((regions[n].ops || {}).scaling_decisions) || []).forEach((d) => decisions.push(d)));
    decisions.sort((a, b) => String(b.time || b.at).localeCompare(String(a.time || a.at)));
    table('decisions', ['time', 'region', 'pool', 'workers', 'reason'], decisions.slice(0, 30).map((d) => [cell(time(d.time || d.at)), cell(d.region),
      cell(d.pool), cell(d.from + ' → ' + d.to), cell([d.reason, d.driver, d.signal && d.signal + ' ' + d.value + ' vs ' + d.threshold].filter(Boolean).join(' · '))]));

    const alerts = [];
    names.forEach((n) => (((regions[n].ops || {}).alerts) || []).forEach((a) => alerts.push(a)));
    alerts.sort((a, b) => String(b.at || '').localeCompare(String(a.at || '')));
    table('alerts', ['time', 'region', 'type', 'what'], alerts.slice(0, 30).map((a) => [cell(time(a.at)), cell(a.region),
      cell(a.type, 'warn'), cell([a.kind, a.name || a.worker_id || a.model, a.from && a.to ? a.from + ' → ' + a.to : a.state, a.reason].filter(Boolean).join(' · '))]));
    $('live').textContent = 'live · last sample ' + time(snap.at);
  }

  function line(values, max, color) {
    if (values.length < 2) return '';
    const step = 600 / (values.length - 1);
    const pts = values.map((v, i) => (i * step).toFixed(1) + ',' + (88 - 84 * (v / max)).toFixed(1)).join(' ');
    return '<polyline fill="none" stroke="' + color + '" stroke-width="2" points="' + pts + '"/>';
  }
  function charts() {
    const sum = (s, f) => Object.values(s.regions || {}).reduce((acc, r) => acc + (f(r) || 0), 0);
    const queued = {};
    TIERS.forEach((t) => { queued[t] = samples.map((s) => sum(s, (r) => (r.queued || {})[t])); });
    const qmax = Math.max(1, ...TIERS.flatMap((t) => queued[t]));
    $('chartQueued').innerHTML = TIERS.map((t) => line(queued[t], qmax, COLORS[t])).join('');
    $('queuedMax').textContent = 'max ' + qmax + ' · ' + samples.length + ' samples';
    const workers = samples.map((s) => sum(s, (r) => (r.workers || {}).healthy));
    const regions = samples.map((s) => sum(s, (r) => (r.healthy ? 1 : 0)));
    const hmax = Math.max(1, ...workers, ...regions);
    $('chartHealth').innerHTML = line(workers, hmax, '#2b8a3e') + line(regions, hmax, '#7048e8');
    $('healthMax').textContent = 'max ' + hmax;
  }

  function compact(snap) {
    // As the edge's history samples (OpsSamples): charts stay live between history loads.
    const out = {};
    const edge = (snap.edge || {}).regions || {};
    Object.entries(snap.regions || {}).forEach(([n, r]) => {
      const queued = {}; const workers = {};
      Object.entries(((r.ops || {}).queues) || {}).forEach(([t, q]) => { queued[t] = q.depth; });
      (r.workers || []).forEach((w) => { workers[w.state] = (workers[w.state] || 0) + 1; });
      out[n] = { healthy: (edge[n] || {}).status === 'healthy', queued: queued, workers: workers };
    });
    return { at: snap.at, regions: out };
  }

  function onEvent(type, data) {
    if (type === 'history') { samples = data.samples || []; charts(); }
    if (type === 'snapshot') {
      if (!samples.length || samples[samples.length - 1].at !== data.at) samples.push(compact(data));
      if (samples.length > 720) samples.shift();
      render(data);
      charts();
    }
  }

  // EventSource cannot send a key: the stream is read with fetch and parsed here.
  async function connect() {
    const mine = ++generation;
    if (!key()) { showError('Enter an admin API key.'); return; }
    $('live').textContent = 'connecting…';
    try {
      const res = await fetch('/v1/admin/ops/stream', { headers: { Authorization: 'Bearer ' + key(), Accept: 'text/event-stream' } });
      if (!res.ok) {
        const data = await res.json().catch(() => ({}));
        showError('The console needs an admin key: ' + (data.message || res.status) + (data.code ? ' (' + data.code + ')' : ''));
        $('live').textContent = 'not connected';
        return;
      }
      showError('');
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done || mine !== generation) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end); buffer = buffer.slice(end + 2);
          let type = 'message', data = '';
          frame.split('\n').forEach((l) => {
            if (l.startsWith('event: ')) type = l.slice(7);
            else if (l.startsWith('data: ')) data += l.slice(6);
          });
          if (data) onEvent(type, JSON.parse(data));
        }
      }
    } catch (err) {
      if (mine === generation) showError('Stream broke: ' + err.message + '; reconnecting');
    }
    if (mine === generation) { $('live').textContent = 'reconnecting…'; setTimeout(() => { if (mine === generation) connect(); }, 2000); }
  }

  $('savekey').onclick = () => {
    if ($('adminkey').value.trim()) localStorage.setItem(KEY, $('adminkey').value.trim());
    $('adminkey').value = '';
    connect();
  };
  if (key()) connect();
})();
