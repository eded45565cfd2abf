// The web page (/): served by the edge from webroot/assets (edge-router/API.md).
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const MAX_RECONNECTS = 5;
  const KEY = 'genmesh.apiKey';
  let run = 0;            // increments per submit; stale sockets check it and stop
  let socket = null;
  let models = [];
  const blobs = [];       // object URLs of fetched images, released on refresh

  function apiKey() { return localStorage.getItem(KEY) || ''; }
  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (apiKey()) h['Authorization'] = 'Bearer ' + apiKey();
    return h;
  }
  function api(path, options) {
    const o = Object.assign({}, options || {});
    o.headers = headers(o.headers);
    return fetch(path, o);
  }
  function showKey() {
    $('keysummary').textContent = apiKey() ? 'API key: ' + apiKey().slice(0, 12) + '…' : 'API key: none (anonymous)';
    $('apikey').value = '';
  }
  $('savekey').onclick = () => { if ($('apikey').value.trim()) localStorage.setItem(KEY, $('apikey').value.trim()); showKey(); loadHistory(); };
  $('clearkey').onclick = () => { localStorage.removeItem(KEY); showKey(); loadHistory(); };

  function randomKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }
  function base64url(text) {
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function errorText(data, res) {
    return (data && data.message) || ('status ' + res.status);
  }
  function showError(text) {
    const box = $('error');
    box.textContent = text;
    box.style.display = 'block';
  }
  function setState(text, warn) {
    const box = $('state');
    box.textContent = text || '';
    box.classList.toggle('hidden', !text);
    box.classList.toggle('warn', !!warn);
  }
  function log(text) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString();
    li.append(time, document.createTextNode(text));
    $('log').append(li);
  }
  function setProgress(fraction, text, done) {
    const pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    $('bar').firstElementChild.style.width = pct + '%';
    $('bar').classList.toggle('done', !!done);
    $('barPct').textContent = pct + '%';
    $('barText').textContent = text;
  }

  // Images need the key too: fetched with it and shown from object URLs.
  async function imageUrl(path) {
    const res = await api(path);
    if (!res.ok) return null;
    const url = URL.createObjectURL(await res.blob());
    blobs.push(url);
    return url;
  }

  async function showImages(paths) {
    const grid = $('images');
    grid.replaceChildren();
    for (let i = 0; i < paths.length; i++) {
      const url = await imageUrl(paths[i]);
      if (!url) continue;
      const link = document.createElement('a');
      link.href = url;
      link.target = '_blank';
      link.rel = 'noopener';
      const img = document.createElement('img');
      img.src = url;
      img.alt = 'generated image ' + (i + 1);
      img.className = 'generated';
      link.append(img);
      grid.append(link);
    }
    $('result').classList.remove('hidden');
  }

  // ---- models and sizes, from GET /v1/models
  function fillSizes() {
    const m = models.find((x) => x.name === $('model').value);
    const select = $('size');
    select.replaceChildren();
    if (!m) return;
    const w = m.width || {}, h = m.height || {}, d = m.defaults || {};
    const step = Math.max(w.multiple_of || 64, 64) * 2;
    const sizes = new Set();
    if (d.width && d.height) sizes.add(d.width + 'x' + d.height);
    for (let s = w.min || 256; s <= Math.min(w.max || 1024, h.max || 1024); s += step) {
      if (s >= (h.min || 0)) sizes.add(s + 'x' + s);
    }
    if (w.max && h.max) sizes.add(w.max + 'x' + h.max);
    Array.from(sizes).sort((a, b) => parseInt(a) - parseInt(b)).forEach((size) => {
      const o = document.createElement('option');
      o.value = size;
      o.textContent = size.replace('x', ' \u00d7 ') + (size === d.width + 'x' + d.height ? ' (default)' : '');
      if (size === d.width + 'x' + d.height) o.selected = true;
      select.append(o);
    });
    $('steps').placeholder = d.steps ? 'default ' + d.steps : 'default';
    if (m.steps) { $('steps').min = m.steps.min; $('steps').max = m.steps.max; }
  }
  async function loadModels() {
    try {
      const res = await api('/v1/models');
      const data = await res.json();
      models = data.models || [];
    } catch (err) {
      models = [];
    }
    const select = $('model');
    select.replaceChildren();
    models.forEach((m) => {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = m.name + (m.current_version ? ' ' + m.current_version : '');
      select.append(o);
    });
    if (!models.length) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = 'default model';
      select.append(o);
    }
    fillSizes();
  }
  $('model').addEventListener('change', fillSizes);

  // ---- history, from GET /v1/generations
  async function loadHistory() {
    blobs.splice(0).forEach((u) => URL.revokeObjectURL(u));
    const list = $('history');
    list.replaceChildren();
    $('historyNote').textContent = 'Loading…';
    let data;
    try {
      const res = await api('/v1/generations?limit=12');
      data = await res.json().catch(() => ({}));
      if (!res.ok) { $('historyNote').textContent = 'History unavailable: ' + errorText(data, res); return; }
    } catch (err) {
      $('historyNote').textContent = 'History unavailable: ' + err.message;
      return;
    }
    const items = data.generations || [];
    $('historyNote').textContent = items.length ? '' : 'Nothing yet.';
    for (const g of items) {
      const fig = document.createElement('figure');
      fig.className = 'item';
      fig.dataset.id = g.id;
      const ph = document.createElement('div');
      ph.className = 'ph';
      ph.textContent = g.status;
      const cap = document.createElement('figcaption');
      cap.textContent = g.tier + ' \u00b7 ' + new Date(g.created_at).toLocaleString();
      fig.append(ph, cap);
      list.append(fig);
      const url = await imageUrl('/v1/images/' + encodeURIComponent(g.id) + '/0.png');
      if (url) {
        const img = document.createElement('img');
        img.src = url;
        img.alt = 'thumbnail of ' + g.id;
        img.className = 'thumb';
        ph.replaceWith(img);
      } else if (g.status !== 'completed') {
        const view = await api('/v1/generations/' + encodeURIComponent(g.id)).then((r) => r.json()).catch(() => null);
        if (view && view.status) ph.textContent = view.status.replace(/_/g, ' ');
      }
    }
  }
  $('refresh').onclick = loadHistory;

  function reset() {
    run += 1;
    if (socket) { socket.close(); socket = null; }
    $('error').style.display = 'none';
    $('log').replaceChildren();
    $('images').replaceChildren();
    $('result').classList.add('hidden');
    $('progress').classList.add('hidden');
    $('cancel').classList.add('hidden');
    $('previewbox').classList.add('hidden');
    $('queue').textContent = '';
    setState('');
    setProgress(0, 'Waiting', false);
  }

  function queueText(e) {
    const ahead = e.queue_position != null ? e.queue_position : e.position;
    const parts = [];
    if (ahead != null) parts.push(ahead === 0 ? 'next in line' : ahead + ' ahead of you');
    if (e.eta_ms != null) parts.push('starts in about ' + Math.max(1, Math.round(e.eta_ms / 1000)) + ' s');
    return parts.length ? 'Queue: ' + parts.join(', ') : '';
  }

  function follow(gen, myRun) {
    let lastId = 0;
    let finished = false;
    let reconnects = 0;
    const images = (gen.links && gen.links.images) || [];
    const cancel = $('cancel');
    cancel.classList.remove('hidden');
    cancel.disabled = false;
    cancel.onclick = async () => {
      cancel.disabled = true;
      try {
        const res = await api(gen.links.self, { method: 'DELETE' });
        if (!res.ok && res.status !== 409) {
          const data = await res.json().catch(() => ({}));
          showError('Could not cancel: ' + errorText(data, res));
          cancel.disabled = false;
        }
      } catch (err) {
        showError('Could not cancel: ' + err);
        cancel.disabled = false;
      }
    };

    function onEvent(e) {
      if (typeof e.id === 'number') lastId = Math.max(lastId, e.id);
      if (e.type === 'completed' || e.type === 'failed' || e.type === 'cancelled') {
        cancel.classList.add('hidden');
        $('queue').textContent = '';
      }
      switch (e.type) {
        case 'queued':
          if (e.retry_count) log('Queued again: retry ' + e.retry_count + (e.reason ? ' after ' + e.reason.replace(/_/g, ' ') : ''));
          else log('Queued');
          $('queue').textContent = queueText(e);
          setProgress(0, 'Queued', false);
          break;
        case 'assigned':
          $('queue').textContent = '';
          log('Assigned to worker ' + e.worker + (e.attempt > 1 ? ' (attempt ' + e.attempt + ')' : ''));
          setProgress(0, 'Starting', false);
          break;
        case 'step':
          $('queue').textContent = '';
          setProgress(e.step / e.total, 'Step ' + e.step + ' of ' + e.total, false);
          if (e.preview) {
            $('preview').src = 'data:image/png;base64,' + e.preview;
            $('previewText').textContent = 'Preview at step ' + e.step;
            $('previewbox').classList.remove('hidden');
          }
          break;
        case 'fallback':
          log('Moved to ' + e.to + ' (' + (e.reason || ('model ' + e.from + ' unavailable')) + ')');
          break;
        case 'region_failover':
          log('Region ' + e.from + ' failed; ' + e.to + ' took the request over'
            + (queueText(e) ? ' (' + queueText(e).replace('Queue: ', '') + ')' : ''));
          setState('Region ' + e.from + ' is down: ' + e.to + ' carries on with your request'
            + (e.waiting ? ' (waiting for a worker there)' : '') + '. Nothing is lost.', true);
          $('queue').textContent = queueText(e);
          break;
        case 'safety_pending':
          $('queue').textContent = '';
          log('Safety check' + (e.reason ? ': ' + e.reason : ''));
          setState('Your image is waiting for its safety check' + (e.reason ? ' (' + e.reason + ')' : '') + '.', true);
          setProgress(1, 'Safety check', false);
          break;
        case 'completed': {
          finished = true;
          setState('');
          const urls = Array.isArray(e.images) && e.images.length && String(e.images[0]).startsWith('/v1/')
            ? e.images : images;
          setProgress(1, 'Done', true);
          log('Completed');
          showImages(urls).then(loadHistory);
          break;
        }
        case 'failed':
          finished = true;
          setState('');
          log('Failed');
          showError(e.code === 'safety_blocked'
            ? 'The safety check blocked this image.'
            : 'Generation failed: ' + (e.message || e.code || 'unknown error') + (e.code ? ' (' + e.code + ')' : ''));
          loadHistory();
          break;
        case 'cancelled':
          finished = true;
          setState('Cancelled.');
          log('Cancelled');
          setProgress(0, 'Cancelled', false);
          loadHistory();
          break;
      }
    }

    function connect() {
      if (myRun !== run) return;
      const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
      const protocols = ['genmesh.events'];
      if (apiKey()) protocols.push('genmesh.bearer.' + base64url(apiKey()));
      const ws = new WebSocket(scheme + location.host + gen.links.events + '?after=' + lastId, protocols);
      socket = ws;
      ws.onmessage = (msg) => {
        if (myRun !== run) return;
        reconnects = 0;   // progress was made: a later break gets fresh retries
        try { onEvent(JSON.parse(msg.data)); } catch (err) { /* ignore a malformed frame */ }
      };
      ws.onclose = () => {
        if (myRun !== run || finished) return;
        if (reconnects >= MAX_RECONNECTS) {
          showError('Lost the progress stream. Request id: ' + gen.id);
          return;
        }
        reconnects += 1;
        log('Stream interrupted, reconnecting');
        setTimeout(connect, 500 * Math.pow(2, reconnects - 1));
      };
    }
    connect();
  }

  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    reset();
    const myRun = run;
    const body = { prompt: $('prompt').value, tier: document.querySelector('input[name=tier]:checked').value };
    const negative = $('negative').value.trim();
    if (negative) body.negative_prompt = negative;
    if ($('model').value) body.model = $('model').value;
    if ($('size').value) {
      const [w, h] = $('size').value.split('x').map(Number);
      body.width = w;
      body.height = h;
    }
    if ($('seed').value !== '') body.seed = Number($('seed').value);
    if ($('steps').value !== '') body.steps = Number($('steps').value);
    const m = models.find((x) => x.name === $('model').value);
    const steps = body.steps || (m && m.defaults && m.defaults.steps) || 20;
    body.preview_every = Math.max(1, Math.ceil(steps / 8));   // about 8 previews per run

    $('submit').disabled = true;
    let res, data;
    try {
      res = await api('/v1/generations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': randomKey() },
        body: JSON.stringify(body),
      });
      data = await res.json().catch(() => ({}));
    } catch (err) {
      showError('Could not reach the server: ' + err.message);
      return;
    } finally {
      $('submit').disabled = false;
    }
    if (myRun !== run) return;
    if (!res.ok) {
      const retry = res.headers.get('Retry-After');
      showError(errorText(data, res) + (data.field ? ' (' + data.field + ')' : '')
        + (retry ? ' (try again in ' + retry + ' s)' : ''));
      return;
    }
    const spec = data.spec || {};
    $('meta').textContent = [data.id, 'region ' + data.region, spec.model, spec.width + '\u00d7' + spec.height,
      spec.steps + ' steps', 'seed ' + spec.seed, data.tier || spec.tier].filter(Boolean).join(' \u00b7 ');
    $('meta').dataset.id = data.id;
    $('progress').classList.remove('hidden');
    log('Accepted by region ' + data.region);
    follow(data, myRun);
    loadHistory();
  });

  showKey();
  loadModels();
  loadHistory();
})();
