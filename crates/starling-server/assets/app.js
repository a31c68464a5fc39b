// Starling dashboard: plain DOM, no framework, no network beyond this origin.
//
// Every string that comes from the API is hostile (post text, names, URLs, keys, reasons,
// raw records). It only ever reaches the page through textContent, text nodes and
// setAttribute; nothing here parses HTML. Links from post data are shown only for
// http(s) URLs. Elements that show such text carry dir="auto" (the CSS adds
// unicode-bidi: plaintext), so Persian and Arabic read right to left.
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const TOKEN_KEY = 'starling-token';
const COLUMN_CAP = 200;
const DETECTION_KINDS = ['burst', 'story', 'campaign', 'silence'];
const SENTIMENTS = new Set(['negative', 'neutral', 'positive']);
const VIEWS = ['live', 'search', 'map', 'post'];
const FACET_TITLES = {
  hashtags: 'Hashtags', authors: 'Authors', languages: 'Languages', countries: 'Countries',
  domains: 'Domains', platforms: 'Platforms', sentiments: 'Sentiment',
};

const state = {
  view: null,
  arg: '',
  previousHash: '#live',
  currentHash: '#live',
  watches: new Map(), // watch name -> column
  detections: { burst: [], story: [], campaign: [], silence: [] },
  storySizes: new Map(),
  histogram: null,
  lastEventId: null,
  streamCtrl: null,
  basemap: null, // promise of countries.json
  search: { q: null, seq: 0 },
  mapSeq: 0,
  postSeq: 0,
};

// ---------------------------------------------------------------- DOM helpers

const $ = (sel) => document.querySelector(sel);

function setProps(el, props) {
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on/i.test(name)) throw new Error('event handler attributes are not allowed');
    if (name === 'class') el.setAttribute('class', value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

function appendAll(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child)); // strings become text nodes
  }
  return el;
}

/** An HTML element; string children become text, never markup. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  return appendAll(el, children);
}

/** An SVG element. */
function s(tag, props, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  setProps(el, props);
  return appendAll(el, children);
}

/** A URL from post data, or null unless it is absolute http(s). */
function safeUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

function externalLink(value, text) {
  const url = safeUrl(value);
  if (!url) return h('span', { class: 'url-refused', dir: 'auto', title: 'not an http(s) link' }, String(value ?? ''));
  return h('a', { href: url.href, rel: 'noopener noreferrer', target: '_blank', dir: 'auto', class: 'ext' }, text ?? url.href);
}

const postHash = (key) => '#post/' + encodeURIComponent(key);
const searchHash = (q) => '#search/' + encodeURIComponent(q);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- formatting

function fmtNum(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
}

function fmtScore(n) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(1) : '–';
}

function toDate(value) {
  const d = new Date(typeof value === 'number' ? value : String(value ?? ''));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "2026-06-12 18:03:05Z" */
function fmtFull(value) {
  const d = toDate(value);
  if (!d) return String(value ?? '');
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** "06-12 18:03Z", for dense lists. */
function fmtShort(value) {
  const d = toDate(value);
  if (!d) return String(value ?? '');
  const iso = d.toISOString();
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}Z`;
}

function timeEl(value, short = true) {
  return h('time', { datetime: String(value ?? ''), title: fmtFull(value) }, short ? fmtShort(value) : fmtFull(value));
}

function fmtValue(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// ---------------------------------------------------------------- API and auth

class ApiError extends Error {
  constructor(message, status, column) {
    super(message);
    this.status = status;
    this.column = column;
  }
}

function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

function authHeaders(extra) {
  const headers = { ...extra };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = authHeaders({ Accept: 'application/json' });
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, cache: 'no-store', credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) {
    askForToken();
    throw new ApiError('an API token is needed', 401);
  }
  const text = res.status === 204 ? '' : await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) throw apiError(res.status, data);
  return data;
}

function apiError(status, data) {
  const fromBody = data && typeof data === 'object' && typeof data.error === 'string' ? data.error : null;
  const text = typeof data === 'string' && data.length < 300 ? data : null;
  let message = fromBody || text || `the server answered ${status}`;
  const column = data && typeof data === 'object' ? data.column : undefined;
  if (Number.isInteger(column) && !message.includes(`column ${column}`)) message = `column ${column}: ${message}`;
  return new ApiError(message, status, column);
}

function askForToken() {
  const form = $('#token-form');
  if (!form.hidden) return;
  form.hidden = false;
  $('#token-input').focus();
}

function initTokenForm() {
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('#token-input').value.trim();
    if (!token) return;
    try { localStorage.setItem(TOKEN_KEY, token); } catch { /* private mode: kept for this page only */ }
    $('#token-input').value = '';
    $('#token-form').hidden = true;
    reloadEverything();
  });
}

let noticeTimer = 0;
/** A short message in the header; 401s are answered by the token form instead. */
function notice(err) {
  if (err instanceof ApiError && err.status === 401) return;
  const el = $('#notice');
  el.textContent = err instanceof Error ? err.message : String(err);
  el.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.hidden = true; }, 8000);
}

// ---------------------------------------------------------------- status header

async function loadStatus() {
  try {
    const st = await api('/api/status');
    $('#st-posts').textContent = fmtNum(st.posts);
    if (st.ingest) renderIngest(st.ingest);
  } catch (err) {
    notice(err);
  }
}

function renderIngest(ingest) {
  if (!ingest || typeof ingest !== 'object') return;
  const rate = Number(ingest.posts_per_sec);
  $('#st-rate').textContent = Number.isFinite(rate) ? (rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)) : '–';
  $('#st-time').textContent = ingest.stream_time ? fmtFull(ingest.stream_time) : '–';
  const lag = Number(ingest.lag_secs);
  const parts = [];
  if (Number.isFinite(lag)) parts.push(`lag ${lag < 10 ? lag.toFixed(1) : lag.toFixed(0)} s`);
  if (ingest.running === false) parts.push('ingest stopped');
  $('#st-lag').textContent = parts.join(' · ');
}

function setConn(kind) {
  const el = $('#conn');
  const titles = { up: 'live stream: connected', down: 'live stream: reconnecting', auth: 'live stream: needs a token' };
  el.setAttribute('class', `conn conn-${kind}`);
  el.title = titles[kind] || kind;
}

// ---------------------------------------------------------------- post cards

function sentimentBadge(sentiment, score) {
  if (!SENTIMENTS.has(sentiment)) return null;
  const title = typeof score === 'number' ? `sentiment score ${score.toFixed(2)}` : 'sentiment';
  return h('span', { class: `badge sent sent-${sentiment}`, title }, sentiment);
}

function placeText(post) {
  if (post.place && post.place.name) return `${post.place.name}${post.place.country ? `, ${post.place.country}` : ''}`;
  return post.country || '';
}

function postCard(post) {
  const place = placeText(post);
  const card = h('article', { class: 'post', 'data-testid': 'post', 'data-key': post.key, tabindex: 0 },
    h('div', { class: 'post-head' },
      post.author_name ? h('span', { class: 'author-name', dir: 'auto' }, post.author_name) : null,
      h('span', { class: 'author', dir: 'auto' }, post.author ?? ''),
      h('span', { class: 'badge platform' }, post.platform ?? ''),
      timeEl(post.created_at)),
    post.title ? h('div', { class: 'post-title', dir: 'auto' }, post.title) : null,
    h('p', { class: 'post-text', dir: 'auto' }, post.text ?? ''),
    h('div', { class: 'post-foot' },
      post.lang ? h('span', { class: 'badge lang', title: 'language' }, post.lang) : null,
      sentimentBadge(post.sentiment, post.sentiment_score),
      place ? h('span', { class: 'place', dir: 'auto', title: 'place' }, place) : null,
      (post.hashtags || []).slice(0, 6).map((tag) => h('span', { class: 'tag', dir: 'auto' }, `#${tag}`)),
      post.deleted ? h('span', { class: 'badge deleted' }, 'deleted') : null,
      post.earlier_versions ? h('span', { class: 'badge edited' }, 'edited') : null));
  const open = () => { location.hash = postHash(post.key); };
  card.addEventListener('click', (ev) => {
    if (ev.target.closest('a') || String(window.getSelection() || '')) return;
    open();
  });
  card.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
  return card;
}

// ---------------------------------------------------------------- watch columns

async function loadWatches({ reset = false } = {}) {
  let list;
  try {
    list = await api('/api/watches');
  } catch (err) {
    notice(err);
    return;
  }
  if (!Array.isArray(list)) return;
  const names = new Set(list.map((w) => w.name));
  for (const [name, col] of state.watches) {
    if (!names.has(name)) { col.el.remove(); state.watches.delete(name); }
  }
  const box = $('#watch-columns');
  for (const watch of list) {
    let col = state.watches.get(watch.name);
    if (!col) {
      col = createColumn(watch);
      state.watches.set(watch.name, col);
      box.append(col.el);
    } else if (reset) {
      col.list.replaceChildren();
      col.keys.clear();
    }
    updateColumnHead(col, watch);
    if (reset || !col.el.dataset.loaded) fillColumn(col);
  }
  $('#watch-empty').hidden = list.length > 0;
}

function createColumn(watch) {
  const countEl = h('span', { class: 'count', title: 'matches' });
  const queryEl = h('div', { class: 'watch-query', dir: 'auto' });
  const toggle = h('button', { type: 'button', class: 'mini' });
  const remove = h('button', { type: 'button', class: 'mini danger', title: 'delete this watch' }, 'delete');
  const list = h('div', { class: 'col-body' });
  const el = h('section', { class: 'watch-column', 'data-testid': 'watch-column', 'data-watch': watch.name },
    h('header', { class: 'col-head' },
      h('h3', { dir: 'auto', title: watch.name }, watch.name), countEl, toggle, remove),
    queryEl, list);
  const col = { name: watch.name, watch, el, list, countEl, queryEl, toggle, keys: new Set(), count: 0 };
  toggle.addEventListener('click', () => toggleWatch(col));
  remove.addEventListener('click', () => deleteWatch(col, remove));
  return col;
}

function updateColumnHead(col, watch) {
  col.watch = watch;
  col.count = Number(watch.matches) || 0;
  col.countEl.textContent = fmtNum(col.count);
  col.queryEl.textContent = watch.query ?? '';
  col.queryEl.title = watch.query ?? '';
  col.toggle.textContent = watch.active === false ? 'resume' : 'pause';
  col.el.classList.toggle('paused', watch.active === false);
}

async function fillColumn(col) {
  try {
    const data = await api(`/api/watches/${encodeURIComponent(col.name)}/matches?limit=30`);
    const matches = Array.isArray(data) ? data : (data && data.matches) || [];
    for (const match of matches) addCard(col, match.post, { top: false });
  } catch (err) {
    notice(err);
  }
  col.el.dataset.loaded = 'true';
}

/** Adds a post to a column once; live ones go on top, the oldest fall off past the cap. */
function addCard(col, post, { top, live = false }) {
  if (!post || !post.key || col.keys.has(post.key)) return;
  const card = postCard(post);
  if (live) card.dataset.live = 'true';
  if (top) col.list.prepend(card); else col.list.append(card);
  col.keys.add(post.key);
  while (col.list.children.length > COLUMN_CAP) {
    const last = col.list.lastElementChild;
    col.keys.delete(last.dataset.key);
    last.remove();
  }
}

let watchReload = 0;
function onMatch(match) {
  const col = state.watches.get(match && match.watch);
  if (!col) {
    clearTimeout(watchReload); // a watch made elsewhere: fetch the list again, once
    watchReload = setTimeout(() => loadWatches(), 500);
    return;
  }
  col.count += 1;
  col.countEl.textContent = fmtNum(col.count);
  addCard(col, match.post, { top: true, live: true });
}

async function toggleWatch(col) {
  const active = col.watch.active === false;
  try {
    const updated = await api(`/api/watches/${encodeURIComponent(col.name)}`, {
      method: 'PUT', body: { query: col.watch.query, active },
    });
    updateColumnHead(col, updated && typeof updated === 'object' ? updated : { ...col.watch, active });
  } catch (err) {
    notice(err);
  }
}

async function deleteWatch(col, button) {
  if (button.dataset.armed !== 'true') { // a second click confirms
    button.dataset.armed = 'true';
    button.textContent = 'confirm';
    setTimeout(() => { button.dataset.armed = ''; button.textContent = 'delete'; }, 3000);
    return;
  }
  try {
    await api(`/api/watches/${encodeURIComponent(col.name)}`, { method: 'DELETE' });
    col.el.remove();
    state.watches.delete(col.name);
    $('#watch-empty').hidden = state.watches.size > 0;
  } catch (err) {
    notice(err);
  }
}

function initAddWatch() {
  const form = $('#add-watch');
  const errorEl = $('#add-watch-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = form.elements.name.value.trim();
    const query = form.elements.query.value.trim();
    errorEl.textContent = '';
    if (!name || !query) { errorEl.textContent = 'a watch needs a name and a query'; return; }
    try {
      await api('/api/watches', { method: 'POST', body: { name, query } });
      form.reset();
      await loadWatches();
    } catch (err) {
      errorEl.textContent = err.status === 409 && !/exist/i.test(err.message)
        ? `a watch named "${name}" already exists` : err.message;
    }
  });
}

// ---------------------------------------------------------------- detections

async function loadDetections() {
  await Promise.all(DETECTION_KINDS.map(async (kind) => {
    try {
      const list = await api(`/api/detections?kind=${kind}&limit=20`);
      state.detections[kind] = Array.isArray(list) ? list : (list && list.detections) || [];
    } catch (err) {
      notice(err);
    }
    renderDetections(kind);
  }));
  renderVolume();
}

/** The stories' sizes hour by hour, by title (their first post). */
async function loadStorySizes() {
  try {
    const sizes = await api('/api/stories/sizes?limit=100');
    state.storySizes = new Map((Array.isArray(sizes) ? sizes : []).map((size) => [size.title, size]));
  } catch (err) {
    notice(err);
  }
  renderDetections('story');
}

/** Posts per hour as a line of block characters, the busiest hour full. */
function hourBars(hourly) {
  if (!Array.isArray(hourly) || !hourly.length) return '';
  const blocks = '▁▂▃▄▅▆▇█';
  const start = Date.parse(hourly[0][0]);
  const most = Math.max(1, ...hourly.map((hour) => Number(hour[1]) || 0));
  const line = [];
  for (const [at, count] of hourly) {
    const index = Math.round((Date.parse(at) - start) / 3600000);
    if (!(index >= 0 && index < 72)) continue;
    while (line.length < index) line.push(' ');
    line[index] = blocks[Math.max(0, Math.min(7, Math.ceil((Number(count) || 0) * 8 / most) - 1))];
  }
  return line.join('');
}

function onDetection(det) {
  const list = det && state.detections[det.kind];
  if (!list || list.some((d) => d.id === det.id)) return;
  list.unshift(det);
  list.sort((a, b) => (Date.parse(b.detected_at) || 0) - (Date.parse(a.detected_at) || 0));
  list.length = Math.min(list.length, 50);
  renderDetections(det.kind);
  if (det.kind === 'burst') renderVolume();
}

function renderDetections(kind) {
  const list = state.detections[kind];
  // Bursts of the same posts as an earlier one are shown under it, by key.
  const leads = new Set(list.filter((d) => !d.group).map((d) => d.key));
  const grouped = (d) => kind === 'burst' && d.group && leads.has(d.group);
  const members = new Map();
  for (const d of list) {
    if (!grouped(d)) continue;
    if (!members.has(d.group)) members.set(d.group, []);
    members.get(d.group).push(d.key ?? '');
  }
  const items = list.filter((d) => !grouped(d)).slice(0, 20)
    .map((d) => detectionItem(d, kind, d.group ? null : members.get(d.key)));
  $(`#list-${kind}`).replaceChildren(...(items.length ? items : [h('li', { class: 'empty' }, 'none yet')]));
}

function detectionItem(det, kind, together) {
  return h('li', { class: `det det-${kind}` },
    h('div', { class: 'det-head' },
      h('span', { class: 'det-key', dir: 'auto' }, det.key ?? ''),
      h('span', { class: 'det-score', title: 'score' }, fmtScore(det.score)),
      timeEl(det.detected_at)),
    det.reason ? h('div', { class: 'det-reason', dir: 'auto' }, det.reason) : null,
    kind === 'campaign' ? accountList(det.accounts) : null,
    together && together.length
      ? h('div', { class: 'det-sub muted', dir: 'auto' },
        `and ${together.length} more in the same posts: ${together.slice(0, 12).join(', ')}`
          + (together.length > 12 ? ', …' : ''))
      : null,
    kind === 'silence' || kind === 'story'
      ? h('div', { class: 'det-sub muted' }, 'first seen ', timeEl(det.first_seen)) : null,
    kind === 'story' ? storySize(state.storySizes.get(det.key)) : null,
    sampleLinks(det.samples));
}

function storySize(size) {
  if (!size) return null;
  return h('div', { class: 'det-sub muted', 'data-testid': 'story-size', title: 'posts per hour from its first' },
    `${fmtValue(size.posts)} posts, by hour `, h('span', { class: 'hour-bars' }, hourBars(size.hourly)));
}

function accountList(accounts) {
  if (!Array.isArray(accounts) || !accounts.length) return null;
  const shown = accounts.slice(0, 24).map((a) => h('span', { class: 'account', dir: 'auto' }, fmtValue(a)));
  const more = accounts.length > 24 ? h('span', { class: 'muted' }, `+${accounts.length - 24} more`) : null;
  return h('div', { class: 'accounts' }, h('span', { class: 'muted' }, `${accounts.length} accounts: `), shown, more);
}

function sampleLinks(samples) {
  if (!Array.isArray(samples) || !samples.length) return null;
  return h('div', { class: 'samples muted' }, 'samples ',
    samples.slice(0, 5).map((key, i) => h('a', { href: postHash(String(key)), title: String(key) }, String(i + 1))));
}

// ---------------------------------------------------------------- alerts

// Alerts sent since the page opened (from the stream), newest first; the rules and the
// outbox's counts from /api/alerts.
const alertsSeen = [];

async function loadAlerts() {
  try {
    const body = await api('/api/alerts');
    const outbox = (body && body.outbox) || {};
    const rules = Array.isArray(body && body.rules) ? body.rules.length : 0;
    $('#alerts-outbox').textContent =
      `${fmtNum(rules)} rules · ${fmtNum(outbox.pending)} pending · ${fmtNum(outbox.delivered)} delivered`
      + (outbox.failed ? ` · ${fmtNum(outbox.failed)} refused` : '');
  } catch (err) {
    notice(err);
  }
  renderAlerts();
}

function onAlert(alert) {
  if (!alert || alertsSeen.some((a) => a.id === alert.id)) return;
  alertsSeen.unshift(alert);
  alertsSeen.length = Math.min(alertsSeen.length, 50);
  renderAlerts();
}

function renderAlerts() {
  const items = alertsSeen.slice(0, 20).map((alert) => h('li', { class: 'det det-alert' },
    h('div', { class: 'det-head' },
      h('span', { class: 'det-key', dir: 'auto' }, alert.title ?? ''),
      h('span', { class: 'muted', dir: 'auto' }, alert.rule ?? ''),
      timeEl(alert.created_at)),
    alert.reason ? h('div', { class: 'det-reason', dir: 'auto' }, alert.reason) : null,
    sampleLinks([...(alert.samples || []).map((s) => s && s.key), ...(alert.sample_keys || [])].filter(Boolean))));
  $('#list-alert').replaceChildren(...(items.length ? items : [h('li', { class: 'empty' }, 'none since this page opened')]));
}

// ---------------------------------------------------------------- sources

const GAP_RECOVERY = {
  none: () => 'not recovered',
  cursor: (r) => `replayed from cursor ${r.cursor ?? ''}`,
  backfill: (r) => `backfilled ${fmtNum(r.posts)} posts${r.complete === false ? ', incomplete' : ''}`,
  refetched: (r) => (r.complete === true ? 'refetched, complete'
    : r.complete === false ? 'refetched; entries may have scrolled off' : 'refetched'),
};

// Each live connector's health and the latest gaps, from /api/sources.
async function loadSources() {
  let body;
  try {
    body = await api('/api/sources?gaps=20');
  } catch (err) {
    notice(err);
    return;
  }
  const sources = Array.isArray(body && body.sources) ? body.sources : [];
  const gaps = Array.isArray(body && body.gaps) ? body.gaps : [];
  const connected = sources.filter((x) => x && x.connected).length;
  $('#sources-summary').textContent = sources.length
    ? `${fmtNum(connected)} of ${fmtNum(sources.length)} connected${body.running ? '' : ' · not running'}`
    : 'none followed';
  const items = sources.map((x) => h('li', { class: `det det-source ${x.connected ? 'ok' : 'down'}`, 'data-testid': 'source' },
    h('div', { class: 'det-head' },
      h('span', { class: 'det-key', dir: 'auto' }, String(x.id ?? '')),
      h('span', { class: 'muted' }, String(x.state ?? ''))),
    h('div', { class: 'det-reason' },
      `${fmtNum(x.received)} received · ${fmtNum(x.per_minute)}/min`
      + (Number.isFinite(x.lag_ms) ? ` · lag ${(x.lag_ms / 1000).toFixed(1)} s` : '')
      + ` · ${fmtNum(x.errors)} errors · ${fmtNum(x.reconnects)} reconnects`),
    x.open_gap ? h('div', { class: 'det-reason warn' }, `gap open since ${String(x.open_gap.from ?? '')} (${String(x.open_gap.cause ?? '')})`) : null,
    x.last_error ? h('div', { class: 'det-reason muted', dir: 'auto' }, String(x.last_error)) : null,
    ...(Array.isArray(x.notes) ? x.notes : []).map((note) => h('div', { class: 'det-reason muted', dir: 'auto' }, String(note)))));
  $('#list-source').replaceChildren(...(items.length ? items
    : [h('li', { class: 'empty' }, 'no live source: [[sources]] in the configuration, or starling follow')]));
  const gapItems = gaps.slice().reverse().map((gap) => {
    const recovery = gap && gap.recovery && GAP_RECOVERY[gap.recovery.by];
    return h('li', { class: 'det det-gap', 'data-testid': 'gap' },
      h('div', { class: 'det-head' },
        h('span', { class: 'det-key', dir: 'auto' }, String(gap.source ?? '')),
        h('span', { class: 'muted' }, String(gap.cause ?? '')),
        timeEl(gap.from)),
      h('div', { class: 'det-reason' }, `until ${String(gap.until ?? 'now')} · ${recovery ? recovery(gap.recovery) : ''}`),
      gap.detail ? h('div', { class: 'det-reason muted', dir: 'auto' }, String(gap.detail)) : null);
  });
  $('#list-gap').replaceChildren(...(gapItems.length ? gapItems : [h('li', { class: 'empty' }, 'none recorded')]));
}

// ---------------------------------------------------------------- charts

function bucketMs(hist, times) {
  const m = /(\d+)\s*(second|minute|hour|day|week)/i.exec(String(hist.bucket || ''));
  const unit = { second: 1e3, minute: 6e4, hour: 36e5, day: 864e5, week: 6048e5 };
  if (m) return Number(m[1]) * unit[m[2].toLowerCase()];
  let step = Infinity;
  for (let i = 1; i < times.length; i += 1) step = Math.min(step, times[i] - times[i - 1]);
  return Number.isFinite(step) && step > 0 ? step : 36e5;
}

function fmtTick(t, span) {
  const iso = new Date(t).toISOString();
  return span > 2 * 864e5 ? iso.slice(5, 10) : `${iso.slice(11, 16)}Z`;
}

/** A bar chart of histogram counts, with burst markers as triangles on top. */
function barChart(hist, { width, height, markers = [] }) {
  const counts = (hist.counts || [])
    .map((c) => ({ t: Date.parse(c.start), n: Number(c.posts) || 0 }))
    .filter((c) => !Number.isNaN(c.t))
    .sort((a, b) => a.t - b.t);
  if (!counts.length) return h('p', { class: 'empty' }, 'no posts yet');
  const step = bucketMs(hist, counts.map((c) => c.t));
  const pad = { l: 44, r: 10, t: 16, b: 18 };
  const t0 = counts[0].t;
  const t1 = counts[counts.length - 1].t + step;
  const max = Math.max(1, ...counts.map((c) => c.n));
  const pw = width - pad.l - pad.r;
  const ph = height - pad.t - pad.b;
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * pw;
  const y = (n) => pad.t + ph - (n / max) * ph;
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'posts over time' });
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f).toFixed(1);
    svg.append(s('line', { class: 'grid', x1: pad.l, x2: width - pad.r, y1: yy, y2: yy }),
      s('text', { class: 'axis', x: pad.l - 4, y: Number(yy) + 3, 'text-anchor': 'end' }, fmtNum(Math.round(max * f))));
  }
  for (const c of counts) {
    const bx = x(c.t);
    const bw = Math.max(1, x(c.t + step) - bx - (pw / counts.length > 4 ? 1 : 0));
    svg.append(s('rect', { class: 'bar', x: bx.toFixed(1), y: y(c.n).toFixed(1), width: bw.toFixed(1), height: (pad.t + ph - y(c.n)).toFixed(1) },
      s('title', {}, `${fmtFull(c.t)}: ${fmtNum(c.n)} posts`)));
  }
  const ticks = Math.max(2, Math.min(6, Math.floor(pw / 110)));
  for (let i = 0; i <= ticks; i += 1) {
    const t = t0 + ((t1 - t0) * i) / ticks;
    const anchor = i === 0 ? 'start' : i === ticks ? 'end' : 'middle';
    svg.append(s('text', { class: 'axis', x: x(t).toFixed(1), y: height - 4, 'text-anchor': anchor }, fmtTick(t, t1 - t0)));
  }
  for (const det of markers) {
    const t = Date.parse(det.detected_at);
    if (!(t >= t0 && t <= t1)) continue;
    const mx = x(t);
    svg.append(s('g', { class: 'burst-marker', 'data-testid': 'burst-marker' },
      s('title', {}, `burst: ${det.key ?? ''} (score ${fmtScore(det.score)}) ${det.reason ?? ''}`),
      s('line', { class: 'burst-line', x1: mx.toFixed(1), x2: mx.toFixed(1), y1: pad.t - 2, y2: pad.t + ph }),
      s('polygon', { points: `${(mx - 5).toFixed(1)},${pad.t - 12} ${(mx + 5).toFixed(1)},${pad.t - 12} ${mx.toFixed(1)},${pad.t - 3}` })));
  }
  return svg;
}

async function loadCounts() {
  try {
    const data = await api('/api/counts');
    state.histogram = data.histogram || null;
    $('#volume-meta').textContent = `${fmtNum(data.total)} posts${state.histogram ? `, per ${state.histogram.bucket}` : ''}`;
    renderVolume();
    renderBreakdowns(data.facets || {});
  } catch (err) {
    notice(err);
  }
}

function renderVolume() {
  const box = $('#volume-chart');
  if (!state.histogram) { box.replaceChildren(h('p', { class: 'empty' }, 'no histogram yet')); return; }
  const width = Math.max(320, box.clientWidth || 720);
  box.replaceChildren(barChart(state.histogram, { width, height: 190, markers: state.detections.burst }));
}

// ---------------------------------------------------------------- facets and bar lists

function quoteValue(value) {
  const v = String(value);
  return /^[^\s"()]+$/.test(v) ? v : `"${v.replace(/"/g, '')}"`;
}

/** The query words that pick one facet value. */
function facetToken(kind, value) {
  const v = String(value ?? '');
  switch (kind) {
    case 'hashtags': return v.startsWith('#') ? v : `#${v}`;
    case 'authors': {
      const i = v.indexOf(':');
      return i > 0 ? `from:${quoteValue(v.slice(i + 1))} platform:${quoteValue(v.slice(0, i))}` : `from:${quoteValue(v)}`;
    }
    case 'languages': return `lang:${quoteValue(v)}`;
    case 'countries': return `country:${quoteValue(v)}`;
    case 'domains': return `domain:${quoteValue(v)}`;
    case 'platforms': return `platform:${quoteValue(v)}`;
    case 'sentiments': return `sentiment:${quoteValue(v)}`;
    default: return quoteValue(v);
  }
}

function barList(items, kind, onPick) {
  if (!Array.isArray(items) || !items.length) return h('p', { class: 'empty' }, 'none');
  const max = Math.max(1, ...items.map((it) => Number(it.posts) || 0));
  return h('ul', { class: 'bars' }, items.slice(0, 12).map((it) => {
    const fill = h('span', { class: 'bar-fill' });
    fill.style.width = `${(((Number(it.posts) || 0) / max) * 100).toFixed(1)}%`; // CSSOM: allowed by the CSP
    if (kind === 'sentiments' && SENTIMENTS.has(it.value)) fill.classList.add(`sent-${it.value}`);
    const row = h('li', { class: 'bar-row', tabindex: 0, title: `search ${facetToken(kind, it.value)}` },
      h('span', { class: 'bar-label', dir: 'auto' }, fmtValue(it.value)),
      h('span', { class: 'bar-track' }, fill),
      h('span', { class: 'bar-count' }, fmtNum(Number(it.posts))));
    const pick = () => onPick(facetToken(kind, it.value));
    row.addEventListener('click', pick);
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') pick(); });
    return row;
  }));
}

function renderBreakdowns(facets) {
  const go = (token) => { location.hash = searchHash(token); };
  $('#bd-languages').replaceChildren(barList(facets.languages, 'languages', go));
  $('#bd-sentiments').replaceChildren(barList(facets.sentiments, 'sentiments', go));
  $('#bd-platforms').replaceChildren(barList(facets.platforms, 'platforms', go));
}

// ---------------------------------------------------------------- search view

function initSearch() {
  $('#search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitSearch($('#search-input').value.trim());
  });
  $('#search-sort').addEventListener('change', () => {
    const q = $('#search-input').value.trim();
    if (q) runSearch(q);
  });
  $('#search-help-toggle').addEventListener('click', () => { $('#search-help').hidden = !$('#search-help').hidden; });
}

function submitSearch(q) {
  if (!q) { showSearchError('type a query first'); return; }
  const hash = searchHash(q);
  if (location.hash === hash) runSearch(q); else location.hash = hash;
}

function showSearchView(q) {
  if (q && q !== state.search.q) {
    $('#search-input').value = q;
    runSearch(q);
  }
  if (!q) $('#search-input').focus();
}

function showSearchError(message) {
  const el = $('#search-error');
  el.textContent = message;
  el.hidden = !message;
}

async function runSearch(q) {
  const seq = ++state.search.seq;
  state.search.q = q;
  const params = new URLSearchParams({
    q, sort: $('#search-sort').value, limit: '50', facets: 'true', histogram: 'true',
  });
  const results = $('#search-results');
  results.setAttribute('aria-busy', 'true');
  $('#search-total').textContent = 'searching…';
  let data;
  try {
    data = await api(`/api/search?${params}`);
  } catch (err) {
    if (seq !== state.search.seq) return;
    state.search.q = null;
    showSearchError(err.message);
    $('#search-total').textContent = '';
    results.removeAttribute('data-query');
    results.replaceChildren();
    $('#search-facets').replaceChildren();
    $('#search-histogram').replaceChildren();
    results.removeAttribute('aria-busy');
    return;
  }
  if (seq !== state.search.seq) return;
  showSearchError('');
  renderSearch(q, data || {});
  results.removeAttribute('aria-busy');
}

function renderSearch(q, data) {
  const total = Number(data.total) || 0;
  const totalEl = $('#search-total');
  const took = Number(data.took_ms);
  const tookText = Number.isFinite(took) ? `${took < 10 ? took.toFixed(1) : Math.round(took)} ms` : '';
  totalEl.textContent = `${data.total_is_exact === false ? 'about ' : ''}${fmtNum(total)} posts · ${tookText}`;
  totalEl.dataset.total = String(total);
  const posts = Array.isArray(data.posts) ? data.posts : [];
  const results = $('#search-results');
  results.replaceChildren(...(posts.length ? posts.map(postCard) : [h('p', { class: 'empty' }, 'no posts match')]));
  results.setAttribute('data-query', q);
  renderFacets(data.facets || {});
  const histBox = $('#search-histogram');
  histBox.replaceChildren(data.histogram && data.histogram.counts && data.histogram.counts.length
    ? barChart(data.histogram, { width: Math.max(320, histBox.clientWidth || 600), height: 90 }) : '');
}

function renderFacets(facets) {
  const append = (token) => {
    const current = $('#search-input').value.trim();
    submitSearch(current ? `${current} ${token}` : token);
  };
  const groups = Object.keys(FACET_TITLES)
    .filter((kind) => Array.isArray(facets[kind]) && facets[kind].length)
    .map((kind) => h('section', { class: 'facet', 'data-facet': kind },
      h('h3', {}, FACET_TITLES[kind]), barList(facets[kind], kind, append)));
  $('#search-facets').replaceChildren(...groups);
}

// ---------------------------------------------------------------- post view

async function showPost(key) {
  const seq = ++state.postSeq;
  const body = $('#post-body');
  $('#post-back').setAttribute('href', state.previousHash);
  body.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
  let post;
  try {
    post = await api(`/api/posts/${encodeURIComponent(key)}`);
  } catch (err) {
    if (seq === state.postSeq) body.replaceChildren(h('p', { class: 'error', dir: 'auto' }, err.message));
    return;
  }
  if (seq !== state.postSeq) return;
  body.replaceChildren(postDetail(post));
  window.scrollTo(0, 0);
}

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

function text(value) {
  return h('span', { dir: 'auto' }, fmtValue(value));
}

function pointText(point) {
  if (!point || typeof point !== 'object') return '';
  const lat = Number(point.lat);
  const lon = Number(point.lon);
  return Number.isFinite(lat) && Number.isFinite(lon) ? `${lat.toFixed(4)}, ${lon.toFixed(4)}` : fmtValue(point);
}

function placeDetail(place) {
  if (!place || typeof place !== 'object') return text(place);
  const conf = Number(place.confidence);
  return h('div', { class: 'place-detail' },
    h('div', {}, h('b', { dir: 'auto' }, place.name ?? ''), place.country ? `, ${place.country}` : '',
      place.point ? h('span', { class: 'muted' }, ` (${pointText(place.point)})`) : null),
    h('div', { class: 'muted' }, `source ${fmtValue(place.source)}`, Number.isFinite(conf) ? `, confidence ${conf.toFixed(2)}` : ''),
    place.reason ? h('div', { class: 'reason', dir: 'auto' }, place.reason) : null);
}

const KNOWN_FIELDS = new Set(['key', 'platform', 'id', 'created_at', 'author', 'author_name', 'title', 'text', 'url',
  'lang', 'lang_confidence', 'declared_lang', 'sentiment', 'sentiment_score', 'country', 'place', 'point', 'hashtags',
  'deleted', 'earlier_versions', 'raw', 'raw_format', 'source', 'history']);

function fieldList(post) {
  const langConf = Number(post.lang_confidence);
  const rows = [
    row('key', text(post.key)),
    row('platform', text(post.platform)),
    row('id', text(post.id)),
    row('created', timeEl(post.created_at, false)),
    row('author', h('a', { href: searchHash(`from:${quoteValue(post.author ?? '')}`), dir: 'auto' }, fmtValue(post.author))),
  ];
  if (post.author_name) rows.push(row('author name', text(post.author_name)));
  if (post.url !== undefined && post.url !== null) rows.push(row('url', externalLink(post.url)));
  rows.push(row('language', text(post.lang), Number.isFinite(langConf) ? h('span', { class: 'muted' }, ` (confidence ${langConf.toFixed(2)})`) : ''));
  if (post.declared_lang) rows.push(row('declared language', text(post.declared_lang)));
  if (post.sentiment) {
    rows.push(row('sentiment', sentimentBadge(post.sentiment) || text(post.sentiment),
      typeof post.sentiment_score === 'number' ? ` ${post.sentiment_score.toFixed(2)}` : ''));
  }
  if (post.country) rows.push(row('country', text(post.country)));
  if (post.place) rows.push(row('place', placeDetail(post.place)));
  if (post.point) rows.push(row('point', pointText(post.point)));
  if (Array.isArray(post.hashtags) && post.hashtags.length) {
    rows.push(row('hashtags', post.hashtags.map((tag) => [h('a', { href: searchHash(`#${tag}`), dir: 'auto', class: 'tag' }, `#${tag}`), ' '])));
  }
  if (post.deleted !== undefined) rows.push(row('deleted', text(post.deleted)));
  if (post.earlier_versions !== undefined) rows.push(row('earlier versions', text(post.earlier_versions)));
  if (post.raw_format !== undefined) rows.push(row('raw format', text(post.raw_format)));
  if (post.source !== undefined) rows.push(row('source', text(post.source)));
  for (const [name, value] of Object.entries(post)) {
    if (!KNOWN_FIELDS.has(name) && value !== null && value !== undefined) rows.push(row(name, text(value)));
  }
  return h('dl', { class: 'fields' }, rows);
}

function prettyRaw(raw) {
  if (typeof raw !== 'string') return raw === undefined || raw === null ? '' : JSON.stringify(raw, null, 2);
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

function versionBlock(version) {
  return h('li', { class: 'version' },
    h('div', { class: 'muted' }, timeEl(version.created_at, false), version.deleted ? ' · deleted' : ''),
    version.title ? h('div', { class: 'post-title', dir: 'auto' }, version.title) : null,
    h('p', { class: 'post-text', dir: 'auto' }, version.text ?? ''));
}

function postDetail(post) {
  const history = Array.isArray(post.history) ? post.history : [];
  return h('article', { class: 'post-detail panel', 'data-testid': 'post-detail', 'data-key': post.key ?? '' },
    h('div', { class: 'post-head' },
      post.author_name ? h('span', { class: 'author-name', dir: 'auto' }, post.author_name) : null,
      h('span', { class: 'author', dir: 'auto' }, post.author ?? ''),
      h('span', { class: 'badge platform' }, post.platform ?? ''),
      timeEl(post.created_at, false)),
    post.title ? h('h2', { class: 'detail-title', dir: 'auto' }, post.title) : null,
    h('p', { class: 'detail-text', dir: 'auto' }, post.text ?? ''),
    fieldList(post),
    history.length ? [h('h3', {}, `Versions (${history.length})`), h('ol', { class: 'versions' }, history.map(versionBlock))] : null,
    h('h3', {}, 'Raw record'),
    h('pre', { class: 'raw', 'data-testid': 'raw', dir: 'auto' }, prettyRaw(post.raw)));
}

// ---------------------------------------------------------------- map view

const MAP_LEVELS = 5;

function loadBasemap() {
  if (!state.basemap) {
    state.basemap = api('/assets/countries.json').catch((err) => { state.basemap = null; throw err; });
  }
  return state.basemap;
}

/** Longitudes made continuous across the antimeridian (179 then -179 becomes 179 then 181). */
function unwrapRing(ring) {
  const out = [];
  let shift = 0;
  let prev = null;
  for (const [lon, lat] of ring) {
    if (prev !== null) {
      const step = lon + shift - prev;
      if (step > 180) shift -= 360; else if (step < -180) shift += 360;
    }
    prev = lon + shift;
    out.push([prev, lat]);
  }
  return out;
}

function ringPath(points, dx) {
  return `${points.map(([lon, lat], i) => `${i ? 'L' : 'M'}${(lon + dx + 180).toFixed(2)},${(90 - lat).toFixed(2)}`).join('')}Z`;
}

/** Equirectangular: x = lon + 180, y = 90 - lat; rings past the edge are drawn again on the other side. */
function countryPath(rings) {
  let d = '';
  for (const ring of rings || []) {
    if (!Array.isArray(ring) || ring.length < 3) continue;
    const pts = unwrapRing(ring);
    const xs = pts.map((p) => p[0]);
    d += ringPath(pts, 0);
    if (Math.max(...xs) > 180) d += ringPath(pts, -360);
    if (Math.min(...xs) < -180) d += ringPath(pts, 360);
  }
  return d;
}

function mapLevel(n, max) {
  if (!(n > 0) || !(max > 0)) return 0;
  return Math.max(1, Math.min(MAP_LEVELS, Math.ceil((Math.log1p(n) / Math.log1p(max)) * MAP_LEVELS)));
}

function initMap() {
  $('#map-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    showMap();
  });
}

async function showMap() {
  const seq = ++state.mapSeq;
  const q = $('#map-q').value.trim();
  const params = new URLSearchParams({ limit: '2000' });
  if (q) params.set('q', q);
  const errorEl = $('#map-error');
  const [base, geo] = await Promise.allSettled([loadBasemap(), api(`/api/geo?${params}`)]);
  if (seq !== state.mapSeq) return;
  const problems = [base, geo].filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  errorEl.textContent = problems.join('; ');
  errorEl.hidden = !problems.length;
  if (base.status !== 'fulfilled') return;
  drawMap(base.value, geo.status === 'fulfilled' && geo.value ? geo.value : { points: [], countries: [] });
}

function drawMap(base, geo) {
  const counts = new Map((geo.countries || []).map((c) => [String(c.value).toUpperCase(), Number(c.posts) || 0]));
  const max = Math.max(0, ...counts.values());
  const names = new Map();
  const svg = s('svg', { class: 'map-svg', viewBox: '0 5 360 145', role: 'img', 'aria-label': 'world map of posts' });
  const land = s('g', { class: 'countries' });
  for (const c of base.countries || []) {
    names.set(String(c.iso).toUpperCase(), c.name);
    const n = counts.get(String(c.iso).toUpperCase()) || 0;
    const path = s('path', { class: `country l${mapLevel(n, max)}`, d: countryPath(c.rings), 'data-iso': c.iso },
      s('title', {}, `${c.name}: ${fmtNum(n)} posts`));
    if (n > 0) path.addEventListener('click', () => { location.hash = searchHash(`country:${c.iso}`); });
    land.append(path);
  }
  const dots = s('g', { class: 'points' });
  const points = Array.isArray(geo.points) ? geo.points : [];
  for (const p of points) {
    const lat = Number(p.lat);
    const lon = Number(p.lon);
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) continue;
    const dot = s('circle', {
      class: `pt ${p.source === 'geotag' ? 'pt-geotag' : 'pt-place'}`, 'data-testid': 'map-point', 'data-key': p.key,
      cx: (lon + 180).toFixed(2), cy: (90 - lat).toFixed(2), r: 0.9,
    }, s('title', {}, `${fmtValue(p.label)} (${p.source === 'geotag' ? 'geotag' : 'place'})`));
    dot.addEventListener('click', () => { location.hash = postHash(String(p.key)); });
    dots.append(dot);
  }
  svg.append(land, dots);
  $('#map').replaceChildren(svg);
  $('#map-meta').textContent = `${fmtNum(points.length)} points${points.length >= 2000 ? ' (the newest 2,000)' : ''}`;
  renderLegend(max);
  renderCountryList(geo.countries || [], names);
}

function renderLegend(max) {
  const rows = [];
  for (let level = 1; level <= MAP_LEVELS; level += 1) {
    const upTo = Math.round(Math.expm1((level / MAP_LEVELS) * Math.log1p(max)));
    rows.push(h('li', {}, h('span', { class: `swatch l${level}` }), max > 0 ? `up to ${fmtNum(upTo)} posts` : '–'));
  }
  $('#map-legend').replaceChildren(
    h('ul', { class: 'legend-list' }, h('li', {}, h('span', { class: 'swatch l0' }), 'no posts'), rows,
      h('li', {}, h('span', { class: 'dot pt-geotag' }), 'geotagged post'),
      h('li', {}, h('span', { class: 'dot pt-place' }), 'resolved place')),
    h('p', { class: 'muted' }, 'Shading is on a log scale.'));
}

function renderCountryList(countries, names) {
  const top = [...countries].sort((a, b) => (Number(b.posts) || 0) - (Number(a.posts) || 0)).slice(0, 25);
  $('#map-countries').replaceChildren(...top.map((c) => {
    const code = String(c.value);
    return h('li', {}, h('a', { href: searchHash(`country:${quoteValue(code)}`), dir: 'auto' }, names.get(code.toUpperCase()) || code),
      h('span', { class: 'muted' }, ` ${fmtNum(Number(c.posts))}`));
  }));
}

// ---------------------------------------------------------------- live stream (SSE over fetch)

/** Parses the text/event-stream format chunk by chunk and calls onEvent per complete event. */
function sseParser(onEvent) {
  let buffer = '';
  let data = [];
  let type = '';
  const line = (l) => {
    if (l === '') {
      if (data.length) onEvent({ type: type || 'message', data: data.join('\n') });
      data = [];
      type = '';
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) state.lastEventId = value;
  };
  return (chunk) => {
    let textChunk = buffer + chunk;
    let held = '';
    if (textChunk.endsWith('\r')) { held = '\r'; textChunk = textChunk.slice(0, -1); } // maybe half of \r\n
    const lines = textChunk.split(/\r\n|\r|\n/);
    buffer = lines.pop() + held;
    lines.forEach(line);
  };
}

function onStreamEvent(ev) {
  let data;
  try { data = JSON.parse(ev.data); } catch { return; }
  if (ev.type === 'match') onMatch(data);
  else if (ev.type === 'detection') onDetection(data);
  else if (ev.type === 'alert') onAlert(data);
  else if (ev.type === 'stats') renderIngest(data);
  else if (ev.type === 'gap') onGap(data);
}

function onGap(data) {
  notice(`the live stream missed ${fmtNum(Number(data && data.missed))} events; lists reloaded`);
  loadWatches({ reset: true });
  loadDetections();
  loadAlerts();
  loadCounts();
}

async function readStream(signal) {
  const headers = authHeaders({ Accept: 'text/event-stream' });
  if (state.lastEventId) headers['Last-Event-ID'] = state.lastEventId;
  const res = await fetch('/api/stream', { headers, signal, cache: 'no-store', credentials: 'same-origin' });
  if (res.status === 401) {
    askForToken();
    throw new ApiError('an API token is needed', 401);
  }
  if (!res.ok || !res.body) throw new ApiError(`stream answered ${res.status}`, res.status);
  setConn('up');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const feed = sseParser(onStreamEvent);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    feed(value);
  }
}

function startStream() {
  if (state.streamCtrl) state.streamCtrl.abort();
  const ctrl = new AbortController();
  state.streamCtrl = ctrl;
  (async () => {
    while (!ctrl.signal.aborted) {
      try {
        await readStream(ctrl.signal);
      } catch (err) {
        if (ctrl.signal.aborted) return;
        if (err instanceof ApiError && err.status === 401) { setConn('auth'); return; } // the token form restarts it
      }
      if (ctrl.signal.aborted) return;
      setConn('down');
      await sleep(1000 + Math.random() * 1000);
    }
  })();
}

// ---------------------------------------------------------------- routing and start

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const slash = raw.indexOf('/');
  const view = slash < 0 ? raw : raw.slice(0, slash);
  let arg = slash < 0 ? '' : raw.slice(slash + 1);
  try { arg = decodeURIComponent(arg); } catch { /* keep it as typed */ }
  return VIEWS.includes(view) ? { view, arg, raw } : { view: 'live', arg: '', raw: 'live' };
}

function route() {
  const { view, arg, raw } = parseHash();
  if (state.view && state.view !== 'post') state.previousHash = state.currentHash || '#live';
  state.currentHash = `#${raw}`;
  state.view = view;
  state.arg = arg;
  for (const section of document.querySelectorAll('.view')) section.hidden = section.dataset.view !== view;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  if (view === 'live') { renderVolume(); loadCounts(); }
  if (view === 'search') showSearchView(arg);
  if (view === 'post') showPost(arg);
  if (view === 'map') showMap();
}

function reloadEverything() {
  loadStatus();
  loadWatches();
  loadDetections().then(loadStorySizes);
  loadAlerts();
  loadSources();
  startStream();
  route();
}

function start() {
  initTokenForm();
  initAddWatch();
  initSearch();
  initMap();
  window.addEventListener('hashchange', route);
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.view === 'live') renderVolume(); }, 200);
  });
  setInterval(loadStatus, 10000);
  setInterval(() => { if (state.view === 'live' && !document.hidden) { loadCounts(); loadAlerts(); loadSources(); loadStorySizes(); } }, 10000);
  reloadEverything();
}

start();
