// sonae live incident board (docs/board.md). Plain browser JavaScript over the REST API: no build
// step, no dependency, nothing loaded from elsewhere (the gateway's Content-Security-Policy allows
// its own files only). The API token is kept in sessionStorage: it lives as long as the tab.
//
// Live updates: GET /v1/stream answers with Server-Sent Events as soon as an incident the token
// sees changed (or after 25 s); the board then reads again what it shows. fetch() rather than
// EventSource, because EventSource cannot send the Authorization header.
'use strict';

const I18N = {
  ja: {
    skip: '本文へ移動', board: 'インシデントボード', signIn: 'サインイン', signOut: 'サインアウト',
    signInHelp: 'API トークン（sonae token create で発行）を入力してください。このブラウザのタブを閉じるまで保持されます。',
    token: 'API トークン', badToken: 'トークンが無効です。', expired: 'トークンが無効になりました。もう一度サインインしてください。',
    unreachable: 'サーバーに接続できません。', live: '● ライブ', offline: '✖ 接続が切れています（再接続中）',
    openIncidents: '対応中のインシデント', none: '対応中のインシデントはありません', services: '業務サービスと RTO',
    drills: '訓練', drillBadge: '訓練', drillNote: '訓練のインシデントです（実際のインシデントではありません）',
    liveDrills: '実施中の訓練', allTenants: '全団体',
    count: (n) => `${n} 件`, age: (d) => `経過 ${d}`, opened: '発生', ackedBy: '受領者', playbook: 'プレイブック',
    severity: { critical: '緊急', high: '高', medium: '中', low: '低', info: '情報' },
    status: { triggered: '未受領', acknowledged: '対応中', resolved: '解決済み' },
    cls: (c) => `機密性${c}`,
    clock: { ok: '正常', warn: '注意', breach: 'RTO 超過', recovered: '復旧済み', idle: '未開始' },
    left: (d) => `残り ${d}`, over: (d) => `${d} 超過`, predicted: '⚠ RTO 超過の予測', threshold: '最初のエスカレーション',
    noImpact: '影響なし', rto: 'RTO', leastLeft: '最短の残り時間', stage: 'エスカレーション段階', state: '状態', service: 'サービス',
    incidentsCol: 'インシデント', back: '← ボードへ戻る', commands: '操作', steps: '手順（依存関係順）', timeline: 'タイムライン',
    owner: '担当', assignee: '割当', due: '期限', after: '前提', overdueWord: '期限超過',
    step: { done: '✔ 完了', active: '▶ 対応中', overdue: '⏰ 期限超過', skipped: '⤼ スキップ', failed: '✖ 失敗', pending: '○ 未着手' },
    cmd: { ack: '受領 (ack)', escalate: 'エスカレーション', resolve: '解決 (resolve)', note: 'メモを追加', done: '完了', send: '送信' },
    summaryPh: '解決の要約', notePh: 'メモ', commandPh: 'コマンド（例: assign isolate yamada / skip notify 理由）',
    needs: (r) => `${r} 権限が必要`, sent: (c) => `送信しました: ${c}`, applied: (c) => `反映されました: ${c}`,
    refused: (m) => `拒否されました: ${m}`, resolvedFromBoard: 'ボードから解決',
    lang: 'English', langCode: 'en', notFound: 'インシデントが見つかりません。', role: { viewer: '閲覧者', responder: '対応者', commander: '指揮者', admin: '管理者', prefecture: '都道府県' },
  },
  en: {
    skip: 'Skip to content', board: 'Incident board', signIn: 'Sign in', signOut: 'Sign out',
    signInHelp: 'Enter an API token (issued with sonae token create). It is kept until this browser tab is closed.',
    token: 'API token', badToken: 'The token is not valid.', expired: 'The token is no longer valid. Sign in again.',
    unreachable: 'The server cannot be reached.', live: '● Live', offline: '✖ Disconnected (reconnecting)',
    openIncidents: 'Open incidents', none: 'No open incidents', services: 'Business services and RTO',
    drills: '訓練 Exercises', drillBadge: '訓練 EXERCISE', drillNote: 'An exercise incident (not a real one)',
    liveDrills: 'Drills under way', allTenants: 'All municipalities',
    count: (n) => `${n}`, age: (d) => `open ${d}`, opened: 'Opened', ackedBy: 'Acknowledged by', playbook: 'Playbook',
    severity: { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' },
    status: { triggered: 'Triggered', acknowledged: 'Acknowledged', resolved: 'Resolved' },
    cls: (c) => `Class ${c}`,
    clock: { ok: 'On track', warn: 'Warning', breach: 'RTO breached', recovered: 'Recovered', idle: 'Not started' },
    left: (d) => `${d} left`, over: (d) => `${d} over`, predicted: '⚠ Breach predicted', threshold: 'first escalation',
    noImpact: 'Not affected', rto: 'RTO', leastLeft: 'Least time left', stage: 'Escalation stage', state: 'State', service: 'Service',
    incidentsCol: 'Incidents', back: '← Back to the board', commands: 'Commands', steps: 'Steps (by dependency)', timeline: 'Timeline',
    owner: 'Owner', assignee: 'Assignee', due: 'Due', after: 'After', overdueWord: 'Overdue',
    step: { done: '✔ Done', active: '▶ Active', overdue: '⏰ Overdue', skipped: '⤼ Skipped', failed: '✖ Failed', pending: '○ Pending' },
    cmd: { ack: 'Acknowledge (ack)', escalate: 'Escalate', resolve: 'Resolve', note: 'Add note', done: 'Done', send: 'Send' },
    summaryPh: 'Resolution summary', notePh: 'Note', commandPh: 'Command (e.g. assign isolate yamada / skip notify reason)',
    needs: (r) => `needs the ${r} role`, sent: (c) => `Sent: ${c}`, applied: (c) => `Applied: ${c}`,
    refused: (m) => `Refused: ${m}`, resolvedFromBoard: 'resolved from the board',
    lang: '日本語', langCode: 'ja', notFound: 'No such incident.', role: { viewer: 'viewer', responder: 'responder', commander: 'commander', admin: 'admin', prefecture: 'prefecture' },
  },
};

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const state = {
  token: sessionStorage.getItem('sonae.token'),
  lang: localStorage.getItem('sonae.lang') || ((navigator.language || 'ja').startsWith('ja') ? 'ja' : 'en'),
  me: null,
  incidents: [],
  services: [],
  drills: [],
  detail: null,
  timeline: [],
  since: null,
  skew: 0,        // server clock minus this clock (ms), from the Date header
  loading: null,  // the load in progress
  again: false,   // another change came while loading
  live: 0,        // generation of the live loop
  message: { text: '', refused: false },
};

const $ = (sel) => document.querySelector(sel);
const tr = () => I18N[state.lang];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Elements from data: text is always set as text, never parsed as markup.
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : String(kid));
  }
  return e;
}

function duration(ms) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (state.lang === 'ja') {
    if (d > 0) return `${d}日${hr}時間`;
    if (hr > 0) return `${hr}時間${pad(m)}分`;
    return `${m}分${pad(sec)}秒`;
  }
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${pad(m)}m`;
  return `${m}m ${pad(sec)}s`;
}

function localTime(iso, withDate) {
  if (!iso) return '';
  const opts = withDate ? { dateStyle: 'short', timeStyle: 'medium' } : { timeStyle: 'medium' };
  return new Intl.DateTimeFormat(state.lang === 'ja' ? 'ja-JP' : 'en-GB', opts).format(new Date(iso));
}

const serverNow = () => Date.now() + state.skew;

// ---- the API ---------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (options.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { ...options, headers, cache: 'no-store' });
  const date = r.headers.get('Date');
  if (date) state.skew = Date.parse(date) + 500 - Date.now();  // the header has whole seconds
  if (r.status === 401) {
    signOut(tr().expired);
    throw new Unauthorized();
  }
  return r;
}

async function json(path) {
  const r = await api(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

// ---- sign-in -----------------------------------------------------------------------------------

async function signIn(token) {
  state.token = token;
  const r = await fetch('/v1/me', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (r.status === 401) {
    state.token = null;
    $('#signin-error').textContent = tr().badToken;
    return false;
  }
  if (!r.ok) {
    state.token = null;
    $('#signin-error').textContent = tr().unreachable;
    return false;
  }
  state.me = await r.json();
  sessionStorage.setItem('sonae.token', token);
  $('#signin-error').textContent = '';
  $('#signin').hidden = true;
  $('#view').hidden = false;
  $('#signout').hidden = false;
  paintWho();
  state.since = null;
  live();
  route();
  return true;
}

function signOut(why) {
  state.token = null;
  state.me = null;
  state.live += 1;  // ends the live loop
  sessionStorage.removeItem('sonae.token');
  $('#view').hidden = true;
  $('#view').replaceChildren();
  $('#signout').hidden = true;
  $('#who').hidden = true;
  $('#live').textContent = '';
  $('#signin').hidden = false;
  $('#signin-error').textContent = why || '';
  $('#token').value = '';
  $('#token').focus();
}

function paintWho() {
  const me = state.me;
  if (!me) return;
  const where = me.all_tenants ? tr().allTenants : municipality(me.tenant);
  $('#who').textContent = `${me.name} · ${tr().role[me.role] || me.role} · ${where}`;
  $('#who').hidden = false;
}

function municipality(tenant) {
  const base = tenant.split('~')[0];
  const t = (state.me?.tenants || []).find((x) => x.id === base);
  return (t && t.municipality) || base;
}

// ---- live updates ------------------------------------------------------------------------------

function parseEvents(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    const e = {};
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      e[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, '');
    }
    if (e.event) out.push(e);
  }
  return out;
}

function setLive(up) {
  const el = $('#live');
  el.textContent = up ? tr().live : tr().offline;
  el.classList.toggle('down', !up);
  el.dataset.up = up ? '1' : '0';
}

async function live() {
  const generation = ++state.live;
  while (state.token && generation === state.live) {
    try {
      const q = state.since ? `?since=${encodeURIComponent(state.since)}` : '';
      const r = await api(`/v1/stream${q}`);
      if (generation !== state.live) return;
      if (r.status !== 200) {
        setLive(false);
        await sleep(1000);
        continue;
      }
      setLive(true);
      let changed = false;
      for (const e of parseEvents(await r.text())) {
        if (e.id) state.since = e.id;
        if (e.event === 'reset' || e.event === 'change') changed = true;
      }
      if (changed) refresh();
    } catch (e) {
      if (e instanceof Unauthorized) return;
      setLive(false);
      await sleep(1000);
    }
  }
}

// One load at a time; changes that come meanwhile load once more after it.
function refresh() {
  if (state.loading) {
    state.again = true;
    return state.loading;
  }
  state.loading = (async () => {
    do {
      state.again = false;
      try {
        await load();
      } catch (e) {
        if (e instanceof Unauthorized) return;
        console.warn(e);
      }
    } while (state.again && state.token);
  })().finally(() => { state.loading = null; });
  return state.loading;
}

function currentIncident() {
  const m = location.hash.match(/^#\/incident\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

async function load() {
  if (!state.token) return;
  const id = currentIncident();
  if (id) {
    const r = await api(`/v1/incidents/${encodeURIComponent(id)}`);
    if (r.status === 404) {
      state.detail = { missing: id };
    } else {
      if (!r.ok) throw new Error(`incident: HTTP ${r.status}`);
      state.detail = await r.json();
      state.detailAt = Date.now();
      let page = await json(`/v1/incidents/${encodeURIComponent(id)}/timeline?limit=500`);
      if (page.next_cursor !== null) {
        const from = Math.max(0, page.total - 500);
        page = await json(`/v1/incidents/${encodeURIComponent(id)}/timeline?limit=500&cursor=${from}`);
      }
      state.timeline = page.entries;
    }
    if (currentIncident() === id) renderIncident();
    return;
  }
  const [list, services, drills] = await Promise.all([
    json('/v1/incidents?status=open&exercise=true&limit=200'),
    json('/v1/services'),
    json('/v1/exercises'),
  ]);
  state.listAt = Date.now();
  state.incidents = list.incidents;
  state.services = services.services;
  const running = drills.exercises.filter((x) => x.state !== 'stopped');
  state.drills = await Promise.all(running.map((x) => json(`/v1/exercises/${encodeURIComponent(x.id)}`)));
  if (!currentIncident()) renderBoard();
}

// ---- RTO countdowns ----------------------------------------------------------------------------

// A countdown of one service's RTO, anchored to this browser's clock when it was read; it is
// repainted every second (tick) and read again on every change. A drill's clock runs `rate`
// times as fast as the wall clock (its speed).
function clock(svc, readAt, rate = 1) {
  const el = h('div', { class: 'clock', 'data-service': svc.id });
  const ms = (seconds) => (seconds === null || seconds === undefined ? null : seconds * 1000);
  el.clock = {
    name: svc.name || svc.id,
    state: svc.state,
    rto: (svc.rto_seconds || 0) * 1000,
    readAt,
    rate,
    left: ms(svc.time_left_seconds),            // when read
    threshold: ms(svc.threshold_left_seconds),  // when read
    fired: (svc.escalations || []).length > 0,
    predicted: !!svc.breach_predicted,
  };
  paintClock(el);
  return el;
}

function paintClock(el) {
  const c = el.clock;
  const t = tr();
  const passed = (Date.now() - c.readAt) * c.rate;
  let kind = 'idle';
  let used = 0;
  let left = null;
  if (c.state === 'recovered') {
    kind = 'recovered';
    used = 1;
  } else if (c.left !== null && c.rto > 0) {
    left = c.left - passed;
    used = Math.min(1, Math.max(0, 1 - left / c.rto));
    if (left < 0 || c.state === 'breached') kind = 'breach';
    else if ((c.threshold !== null && c.threshold - passed <= 0) || c.fired) kind = 'warn';
    else kind = 'ok';
  }
  el.dataset.state = kind;
  const symbol = { ok: '●', warn: '▲', breach: '✖', recovered: '✔', idle: '○' }[kind];
  const timeText = left === null ? '' : left >= 0 ? t.left(duration(left)) : t.over(duration(left));
  const bar = h('div', {
    class: 'bar', role: 'meter', 'aria-label': `${c.name} ${t.rto}`,
    'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(used * 100),
    'aria-valuetext': `${t.clock[kind]} ${timeText}`,
  }, h('div', { class: 'used' }));
  bar.firstChild.style.width = `${Math.round(used * 100)}%`;
  if (c.threshold !== null && c.left !== null && c.rto > 0) {
    const at = (c.threshold - (c.left - c.rto)) / c.rto;
    const mark = h('div', { class: 'mark', title: t.threshold });
    mark.style.left = `${Math.min(100, Math.max(0, at * 100))}%`;
    bar.append(mark);
  }
  el.replaceChildren(...[
    h('div', { class: 'label' },
      h('span', { class: 'name' }, c.name),
      h('span', {}, h('span', { class: 'state' }, `${symbol} ${t.clock[kind]}`), ' ', h('span', { class: 'left' }, timeText))),
    bar,
    c.predicted && kind !== 'recovered' ? h('div', { class: 'predicted' }, t.predicted) : null,
  ].filter(Boolean));
}

function tick() {
  for (const el of document.querySelectorAll('.clock')) if (el.clock) paintClock(el);
  for (const el of document.querySelectorAll('[data-opened]')) {
    el.textContent = tr().age(duration(serverNow() - Date.parse(el.dataset.opened)));
  }
}

// ---- the board ---------------------------------------------------------------------------------

function badges(i) {
  const t = tr();
  return [
    i.exercise ? h('span', { class: 'badge drill' }, t.drillBadge) : null,
    h('span', { class: `badge sev-${i.severity}` }, t.severity[i.severity] || i.severity),
    i.classification ? h('span', { class: `badge cls-${i.classification}` }, t.cls(i.classification)) : null,
    h('span', { class: `badge status-${i.status}` }, t.status[i.status] || i.status),
  ];
}

function card(i, readAt, rate = 1) {
  const t = tr();
  return h('li', { class: `card sev-${i.severity}${i.exercise ? ' drill' : ''}`, 'data-incident': i.id },
    h('h3', {}, h('a', { href: `#/incident/${encodeURIComponent(i.id)}` }, i.title)),
    h('div', { class: 'meta' }, badges(i), h('span', {}, i.id),
      h('span', { 'data-opened': i.opened_at }, t.age(duration(serverNow() - Date.parse(i.opened_at))))),
    i.services.map((s) => clock(s, readAt, rate)));
}

function byUrgency(a, b) {
  const least = (i) => Math.min(...i.services.map((s) => (s.time_left_seconds ?? Infinity)), Infinity);
  return (SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]) || (least(a) - least(b)) ||
    a.opened_at.localeCompare(b.opened_at);
}

function renderBoard() {
  const t = tr();
  const real = state.incidents.filter((i) => !i.exercise);
  const drill = state.incidents.filter((i) => i.exercise);
  // One group per municipality: every tenant the token sees, those with incidents first.
  const tenants = (state.me.tenants || []).map((x) => x.id);
  for (const i of real) if (!tenants.includes(i.tenant)) tenants.push(i.tenant);
  // A prefecture's board lists every municipality (a tenant with a catalog), with or without
  // incidents; a municipality's shows its own.
  const named = (tenant) => (state.me.tenants || []).some((x) => x.id === tenant && x.municipality);
  const groups = tenants.map((tenant) => ({ tenant, items: real.filter((i) => i.tenant === tenant).sort(byUrgency) }))
    .filter((g) => g.items.length > 0 || tenants.length === 1 || (state.me.all_tenants && named(g.tenant)))
    .sort((a, b) => (b.items.length > 0) - (a.items.length > 0));
  const incidents = h('section', { 'aria-labelledby': 'open-h' },
    h('h2', { id: 'open-h' }, `${t.openIncidents} (${t.count(real.length)})`),
    groups.map((g) => h('section', { class: 'group', 'data-tenant': g.tenant },
      h('h2', {}, municipality(g.tenant)),
      g.items.length === 0 ? h('p', { class: 'none' }, t.none)
        : h('ul', { class: 'cards' }, g.items.map((i) => card(i, state.listAt))))));
  const services = h('section', { 'aria-labelledby': 'svc-h' }, h('h2', { id: 'svc-h' }, t.services), servicesTable());
  const drills = h('section', { class: 'drill-zone', 'aria-labelledby': 'drill-h', 'data-zone': 'exercise' },
    h('h2', { id: 'drill-h' }, `${t.drills} (${t.count(drill.length + state.drills.reduce((n, d) => n + (d.incidents || []).length, 0))})`),
    h('p', {}, t.drillNote),
    drill.length ? h('ul', { class: 'cards' }, drill.sort(byUrgency).map((i) => card(i, state.listAt))) : null,
    state.drills.map((d) => h('section', { 'data-exercise': d.id },
      h('h3', {}, `${t.liveDrills}: ${d.title} (${d.id}, ${d.state})`),
      h('ul', { class: 'cards' }, (d.incidents || []).map((i) => card({ ...i, exercise: true }, state.listAt, d.speed || 1))))));
  const view = $('#view');
  view.replaceChildren(h('div', { class: 'columns' }, incidents, services), drills);
}

function servicesTable() {
  const t = tr();
  const rows = state.services.map((s) => {
    let kind = 'idle';
    if (s.open_incidents.length > 0) {
      kind = s.breached ? 'breach' : s.escalation_stage ? 'warn' : 'ok';
    }
    const word = s.open_incidents.length === 0 ? t.noImpact : t.clock[kind];
    const symbol = { ok: '●', warn: '▲', breach: '✖', idle: '–' }[kind];
    const left = s.time_left_seconds === null ? '' :
      s.time_left_seconds >= 0 ? t.left(duration(s.time_left_seconds * 1000)) : t.over(duration(s.time_left_seconds * 1000));
    return h('tr', { 'data-service': s.id, 'data-state': kind },
      h('td', {}, s.name, state.me.all_tenants ? h('div', { class: 'meta' }, municipality(s.tenant)) : null),
      h('td', {}, duration(s.rto_seconds * 1000)),
      h('td', { class: `state ${kind}` }, `${symbol} ${word}`, s.breach_predicted ? h('div', { class: 'predicted' }, t.predicted) : null),
      h('td', {}, left),
      h('td', {}, s.open_incidents.map((i) => h('div', {}, h('a', { href: `#/incident/${encodeURIComponent(i.id)}` }, i.id)))),
      h('td', {}, s.escalation_stage || ''));
  });
  return h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, [t.service, t.rto, t.state, t.leastLeft, t.incidentsCol, t.stage].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows)));
}

// ---- one incident ------------------------------------------------------------------------------

function allowed(verb) {
  const c = (state.me?.commands || []).find((x) => x.verb === verb);
  return c ? c : { allowed: false, role: 'admin' };
}

// A command button: enabled for the role, marked locked otherwise. A locked one still sends, so
// that the server (which audits the attempt) says why it is refused.
function commandButton(verb, label, line, extra = {}) {
  const may = allowed(verb);
  const b = h('button', {
    type: 'button', 'data-verb': verb, class: may.allowed ? (extra.primary ? 'primary' : '') : 'locked',
    title: may.allowed ? null : tr().needs(may.role),
    onclick: () => send(typeof line === 'function' ? line() : line),
  }, may.allowed ? label : `⊘ ${label}`);
  return b;
}

function stepLayers(steps) {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map();
  const visit = (s, seen = new Set()) => {
    if (depth.has(s.id)) return depth.get(s.id);
    if (seen.has(s.id)) return 0;
    seen.add(s.id);
    let d = 0;
    for (const a of s.after || []) if (byId.has(a)) d = Math.max(d, visit(byId.get(a), seen) + 1);
    depth.set(s.id, d);
    return d;
  };
  const layers = [];
  for (const s of steps) {
    const d = visit(s);
    (layers[d] = layers[d] || []).push(s);
  }
  return layers.filter(Boolean);
}

function stepNode(s) {
  const t = tr();
  const st = s.status === 'active' && s.overdue ? 'overdue' : s.status;
  const open = state.detail.status !== 'resolved';
  return h('li', { class: 'node', 'data-step': s.id, 'data-status': st },
    h('div', { class: 'status' }, t.step[st] || st),
    h('div', { class: 'title' }, h('strong', {}, s.title), ' ', h('code', {}, s.id)),
    s.owner ? h('div', {}, `${t.owner}: ${s.owner}`) : null,
    s.assignee ? h('div', {}, `${t.assignee}: ${s.assignee}`) : null,
    s.due_at ? h('div', {}, `${t.due}: ${localTime(s.due_at, false)}`, st === 'overdue' ? ` (${t.overdueWord})` : '') : null,
    s.after && s.after.length ? h('div', { class: 'after' }, `${t.after}: ${s.after.join(', ')}`) : null,
    s.status === 'active' && open ? h('div', { class: 'actions' }, commandButton('done', t.cmd.done, `done ${s.id}`)) : null);
}

function renderIncident() {
  const t = tr();
  const view = $('#view');
  const d = state.detail;
  const back = h('p', {}, h('a', { href: '#/' }, t.back));
  if (!d || d.missing) {
    view.replaceChildren(back, h('p', { class: 'refusal', role: 'alert' }, t.notFound));
    return;
  }
  const summary = h('input', { type: 'text', id: 'resolve-summary', placeholder: t.summaryPh, 'aria-label': t.summaryPh });
  const note = h('input', { type: 'text', id: 'note-text', placeholder: t.notePh, 'aria-label': t.notePh });
  const line = h('input', { type: 'text', id: 'command-line', placeholder: t.commandPh, 'aria-label': t.commandPh });
  const open = d.status !== 'resolved';
  const commands = h('section', { 'aria-labelledby': 'cmd-h' },
    h('h3', { id: 'cmd-h' }, t.commands),
    h('div', { class: 'commands' },
      open && d.status === 'triggered' ? commandButton('ack', t.cmd.ack, 'ack', { primary: true }) : null,
      open ? commandButton('escalate', t.cmd.escalate, 'escalate') : null,
      open ? [summary, commandButton('resolve', t.cmd.resolve, () => `resolve ${summary.value.trim() || t.resolvedFromBoard}`)] : null),
    h('div', { class: 'commands' }, note, commandButton('note', t.cmd.note, () => `note ${note.value.trim() || '-'}`)),
    h('form', { class: 'commands', onsubmit: (e) => { e.preventDefault(); if (line.value.trim()) send(line.value.trim()); } },
      line, h('button', { type: 'submit' }, t.cmd.send)),
    h('p', { id: 'cmd-refusal', class: 'refusal', role: 'alert' }, state.message.refused ? state.message.text : ''),
    h('p', { id: 'cmd-result', class: 'notice', role: 'status' }, state.message.refused ? '' : state.message.text));
  const head = h('section', { class: 'incident-head' + (d.exercise ? ' drill-zone' : ''), 'data-incident': d.id, 'data-status': d.status },
    h('h2', { id: 'incident-h', tabindex: '-1' }, d.title),
    h('div', { class: 'meta' }, badges(d), h('span', {}, d.id),
      h('span', {}, `${t.opened}: ${localTime(d.opened_at, true)}`),
      h('span', { 'data-opened': d.opened_at }, t.age(duration(serverNow() - Date.parse(d.opened_at)))),
      d.acked_by ? h('span', {}, `${t.ackedBy}: ${d.acked_by}`) : null,
      h('span', {}, `${t.playbook}: ${d.playbook_title || d.playbook}`)),
    d.exercise ? h('p', {}, t.drillNote) : null,
    d.services.map((s) => clock(s, state.detailAt)));
  const graph = h('section', { 'aria-labelledby': 'steps-h' },
    h('h3', { id: 'steps-h' }, t.steps),
    h('div', { class: 'graph' }, stepLayers(d.steps).map((layer) => h('ol', { class: 'layer' }, layer.map(stepNode)))));
  const entries = [...state.timeline].reverse();
  const timeline = h('section', { 'aria-labelledby': 'tl-h' },
    h('h3', { id: 'tl-h' }, `${t.timeline} (${state.timeline.length})`),
    h('ol', { class: 'timeline', reversed: true }, entries.map((e) => h('li', { 'data-kind': e.kind },
      h('time', { datetime: e.at }, localTime(e.at, false)),
      h('span', { class: 'actor' }, h('span', { class: 'kind' }, e.kind), h('br'), e.actor || ''),
      h('span', { class: 'text' }, e.text || '')))));
  const focused = document.activeElement && document.activeElement.id;
  const values = { 'resolve-summary': summary, 'note-text': note, 'command-line': line };
  for (const [id, input] of Object.entries(values)) {
    const old = document.getElementById(id);
    if (old) input.value = old.value;
  }
  view.replaceChildren(back, head, commands, graph, timeline);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

async function send(line) {
  const id = state.detail && state.detail.id;
  if (!id) return;
  const t = tr();
  showMessage(t.sent(line), false);
  let r;
  try {
    r = await api(`/v1/incidents/${encodeURIComponent(id)}/commands`, { method: 'POST', body: JSON.stringify({ command: line }) });
  } catch (e) {
    if (!(e instanceof Unauthorized)) showMessage(t.unreachable, true);
    return;
  }
  const body = await r.json().catch(() => ({}));
  if (r.status !== 202) {
    showMessage(t.refused(body.error ? body.error.message : `HTTP ${r.status}`), true);
    return;
  }
  // The orchestrator applies it (or refuses it: already acknowledged, unknown step...).
  for (let n = 0; n < 60; n += 1) {
    await sleep(250);
    const c = await json(`/v1/commands/${encodeURIComponent(body.command_id)}`).catch(() => null);
    if (!c || c.status === 'pending') continue;
    if (c.status === 'applied') showMessage(t.applied(line), false);
    else showMessage(t.refused(c.message || line), true);
    refresh();
    return;
  }
}

function showMessage(text, refused) {
  state.message = { text, refused };
  const r = $('#cmd-refusal');
  const n = $('#cmd-result');
  if (r) r.textContent = refused ? text : '';
  if (n) n.textContent = refused ? '' : text;
}

// ---- navigation and language -------------------------------------------------------------------

function route() {
  if (!state.token) return;
  state.message = { text: '', refused: false };
  const id = currentIncident();
  if (id) {
    state.detail = null;
    $('#view').replaceChildren(h('p', {}, '…'));
  }
  refresh().then(() => {
    if (id && currentIncident() === id) document.getElementById('incident-h')?.focus();
  });
}

function paintLanguage() {
  const t = tr();
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t[el.dataset.i18n];
  const b = $('#lang');
  b.textContent = t.lang;
  b.lang = t.langCode;
  paintWho();
  if ($('#live').dataset.up) setLive($('#live').dataset.up === '1');
  if (state.me) {
    if (currentIncident()) renderIncident(); else renderBoard();
  }
}

document.addEventListener('DOMContentLoaded', () => {
  paintLanguage();
  $('#lang').addEventListener('click', () => {
    state.lang = state.lang === 'ja' ? 'en' : 'ja';
    localStorage.setItem('sonae.lang', state.lang);
    paintLanguage();
  });
  $('#signout').addEventListener('click', () => signOut(''));
  $('#signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('#token').value.trim();
    if (token) signIn(token);
  });
  window.addEventListener('hashchange', route);
  setInterval(tick, 1000);
  if (state.token) {
    signIn(state.token).then((ok) => { if (!ok) signOut(''); });
  } else {
    signOut('');
  }
});
