// The dashboard is a single inline page on purpose: the package has no asset pipeline, so the
// server binary carries the HTML, CSS and JS itself and `GET /` works with nothing else deployed.
// It talks only to the JSON API on the same origin; all data goes into the DOM as text.

/// The dashboard served at `GET /`: one self-contained page (no external scripts, fonts or styles)
/// that uses the JSON API.
enum Dashboard {
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Baton</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;background:#f4f5f8}
header{display:flex;align-items:center;gap:12px;flex-wrap:wrap;padding:8px 16px;background:#1d2330;color:#fff}
header h1{font-size:17px;margin:0 8px 0 0} header label{display:flex;gap:6px;align-items:center}
#stats{display:flex;gap:6px;flex-wrap:wrap;align-items:center;flex:1} #stats .muted{color:#aab}
#errbar{display:flex;gap:8px;align-items:center;background:#fde2e1;color:#8a1c17;border-bottom:1px solid #f3b4b0;padding:6px 16px}
#errbar[hidden]{display:none} #errbar span{flex:1;white-space:pre-wrap}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:12px;padding:12px}
@media (min-width:1000px){main{grid-template-columns:minmax(0,5fr) minmax(0,6fr)}}
section{background:#fff;border:1px solid #dde0e6;border-radius:6px;padding:10px;margin-bottom:12px;min-width:0}
h2{font-size:14px;margin:0 0 8px} h3{font-size:13px;margin:12px 0 6px}
input,select,textarea,button{font:inherit}
input,select,textarea{border:1px solid #c5c9d2;border-radius:4px;padding:3px 6px}
textarea{width:100%;font-family:ui-monospace,Menlo,Consolas,monospace}
button{border:1px solid #b8bdc8;background:#fff;border-radius:4px;padding:3px 10px;cursor:pointer}
button:hover:not(:disabled){background:#eef1f6} button:disabled{opacity:.45;cursor:default}
button.primary{background:#2f6fdd;border-color:#2f6fdd;color:#fff} button.danger{color:#b42318;border-color:#e3a29c}
.row{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-bottom:8px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eceef2;white-space:nowrap}
td.id{max-width:220px;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,Menlo,Consolas,monospace}
tbody tr{cursor:pointer} tbody tr:hover{background:#f2f5fb} tbody tr.sel{background:#e3ecfc}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;font-weight:600;background:#e4e6eb;color:#3b4252}
.b-THINKING,.b-EXECUTING,.b-INTEGRATING,.b-RUNNING{background:#dbe8ff;color:#1f4fa8}
.b-AWAITING_PROCEED,.b-RETRY,.b-RESCUED{background:#fff0c7;color:#7a5600}
.b-COMPLETED,.b-SUCCEEDED{background:#d5f3dd;color:#176b32}
.b-FAILED,.b-DISCARDED{background:#fddcd9;color:#a12117}
.b-CANCELLED{background:#d8dbe1;color:#4a505c}
.bar{height:10px;background:#e6e8ee;border-radius:5px;overflow:hidden;margin:6px 0}
.bar>div{height:100%;background:#2f9e57;transition:width .3s}
pre{margin:4px 0;background:#f6f7f9;border:1px solid #e4e6eb;border-radius:4px;padding:6px;max-height:260px;overflow:auto;font-size:12px}
pre.err,.err{color:#a12117} .muted{color:#6b7280}
.phase{border:1px solid #e4e6eb;border-radius:5px;padding:6px 8px;margin-bottom:8px} .phase.current{border-color:#8fb1ee}
.step{border-top:1px solid #f0f1f4;padding:6px 0} .step:first-of-type{border-top:none}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px}
details summary{cursor:pointer;color:#2f6fdd}
.attempt{margin:4px 0 4px 14px;padding-left:8px;border-left:2px solid #e4e6eb}
code{font-family:ui-monospace,Menlo,Consolas,monospace}
</style>
</head>
<body>
<header>
  <h1>Baton</h1>
  <div id="stats"><span class="muted">loading stats…</span></div>
  <label>token <input id="token" type="password" size="18" autocomplete="off" placeholder="bearer token"></label>
</header>
<div id="errbar" hidden><span id="errmsg"></span><button id="errclose" title="Dismiss">×</button></div>
<main>
  <div>
    <section>
      <h2>Sessions</h2>
      <div class="row">
        <select id="fstatus"><option value="">all</option></select>
        <input id="fkind" placeholder="kind" size="14">
        <button id="refresh">Refresh</button>
        <button id="first">First page</button>
        <button id="next" disabled>Next page</button>
      </div>
      <table>
        <thead><tr><th>id</th><th>kind</th><th>status</th><th>phase</th><th>step</th><th>updated</th></tr></thead>
        <tbody id="rows"></tbody>
      </table>
      <div id="listinfo" class="muted"></div>
    </section>
    <section>
      <h2>New session</h2>
      <form id="newform">
        <div class="row">
          <label>phases <input id="nphases" type="number" min="1" step="1" value="1" style="width:5em"></label>
          <input id="nid" placeholder="id (optional)" size="16">
          <input id="nkind" placeholder="kind (optional)" size="14">
        </div>
        <textarea id="ninput" rows="4" spellcheck="false">{}</textarea>
        <div class="row" style="margin-top:6px"><button class="primary" type="submit">Create</button></div>
      </form>
    </section>
  </div>
  <section id="view"><p class="muted">Select a session to see its phases and steps.</p></section>
</main>
<script>
'use strict';
const STATUSES = ['PENDING', 'THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED', 'COMPLETED', 'FAILED', 'CANCELLED'];
const STEP_ORDER = { THINK: 0, EXECUTE: 1, INTEGRATE: 2 };
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const tokenEl = $('token');
tokenEl.value = localStorage.getItem('batonToken') || '';
tokenEl.addEventListener('input', () => localStorage.setItem('batonToken', tokenEl.value.trim()));

// Builds an element; children that are not nodes become text nodes, so data is never parsed as HTML.
function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') n.className = v;
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) n.append(c instanceof Node ? c : String(c));
  return n;
}
const badge = (s) => el('span', { class: 'badge b-' + String(s).replace(/[^A-Z_]/gi, '') }, s);
const pretty = (v) => JSON.stringify(v, null, 2);
const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});
function fmtTime(s) {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toLocaleString();
}

function showError(msg) { $('errmsg').textContent = msg; $('errbar').hidden = false; }
function clearError() { $('errbar').hidden = true; $('errmsg').textContent = ''; }
$('errclose').addEventListener('click', clearError);
function report(err) {
  if (err && err.name === 'AbortError') return;
  showError(err && err.message ? err.message : String(err));
  if (err && (err.status === 401 || err.status === 403)) tokenEl.focus();
}

// Calls the JSON API; throws an Error carrying the server's error message and HTTP status.
async function api(method, path, body, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = tokenEl.value.trim();
  if (token) headers.Authorization = 'Bearer ' + token;  // reads need it too once the server has a token
  const res = await fetch(path, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
  if (!res.ok) {
    const e = data && data.error;
    const err = new Error(e && e.message ? e.message : `HTTP ${res.status} ${res.statusText}`);
    err.status = res.status;
    err.code = e && e.code;
    throw err;
  }
  return data;
}

// ---- stats ----
async function loadStats() {
  try {
    const s = await api('GET', '/api/stats');
    const parts = [], totals = {};
    let ready = 0, gate = 0;
    for (const k of s.kinds || []) {
      for (const [st, n] of Object.entries(k.sessions || {})) totals[st] = (totals[st] || 0) + n;
      ready += k.readySteps || 0;
      gate += k.atGate || 0;
    }
    for (const st of STATUSES) {
      const n = totals[st];
      const estimated = s.finishedEstimated && (st === 'COMPLETED' || st === 'CANCELLED');
      if (n) parts.push(el('span', { title: 'sessions ' + st + (estimated ? ' (estimated)' : '') },
        badge(st + ' ' + (estimated ? '~' : '') + n)));
    }
    if (!parts.length) parts.push(el('span', { class: 'muted' }, 'no sessions'));
    parts.push(el('span', { class: 'muted' }, `ready steps ${ready} · at the gate ${gate}`));
    $('stats').replaceChildren(...parts);
  } catch (e) { report(e); }
}

// ---- session list ----
const list = { cursor: null, next: null };
for (const st of STATUSES) $('fstatus').append(el('option', { value: st }, st));
async function loadList() {
  const q = new URLSearchParams({ limit: '50' });
  if ($('fstatus').value) q.set('status', $('fstatus').value);
  if ($('fkind').value.trim()) q.set('kind', $('fkind').value.trim());
  if (list.cursor) q.set('cursor', list.cursor);
  try {
    const d = await api('GET', '/api/sessions?' + q);
    list.next = d.nextCursor || null;
    $('next').disabled = !list.next;
    const rows = (d.sessions || []).map((s) => el('tr', {
      class: view && view.id === s.id ? 'sel' : null, 'data-id': s.id, onclick: () => openSession(s.id),
    },
      el('td', { class: 'id', title: s.id }, s.id), el('td', {}, s.kind ?? ''), el('td', {}, badge(s.status)),
      el('td', {}, `${s.phase}/${s.totalPhases}`), el('td', {}, s.step ?? ''),
      el('td', { title: s.updatedAt }, fmtTime(s.updatedAt))));
    $('rows').replaceChildren(...rows);
    $('listinfo').textContent = rows.length ? (list.cursor ? 'later page' : 'first page') + (list.next ? '' : ' (last)') : 'no sessions match';
  } catch (e) { report(e); }
}
function firstPage() { list.cursor = null; loadList(); }
$('fstatus').addEventListener('change', firstPage);
let kindTimer = 0;
$('fkind').addEventListener('input', () => { clearTimeout(kindTimer); kindTimer = setTimeout(firstPage, 300); });
$('refresh').addEventListener('click', () => { loadList(); loadStats(); });
$('first').addEventListener('click', firstPage);
$('next').addEventListener('click', () => { if (list.next) { list.cursor = list.next; loadList(); } });
function markSelected() {
  for (const tr of $('rows').children) tr.classList.toggle('sel', !!view && tr.dataset.id === view.id);
}

// ---- session view with live progress ----
let view = null; // { id, version, ctrl }
function openSession(id) {
  if (view) view.ctrl.abort();
  const v = { id, version: null, ctrl: new AbortController() };
  view = v;
  markSelected();
  $('view').replaceChildren(el('p', { class: 'muted' }, 'Loading ' + id + '…'));
  if (hashId() !== id) history.replaceState(null, '', '#' + enc(id));
  loadSession(v).then(() => pollLoop(v));
}
function closeView() {
  if (view) view.ctrl.abort();
  view = null;
  markSelected();
  history.replaceState(null, '', location.pathname + location.search);
  $('view').replaceChildren(el('p', { class: 'muted' }, 'Select a session to see its phases and steps.'));
}
async function loadSession(v) {
  try {
    const d = await api('GET', '/api/sessions/' + enc(v.id), undefined, v.ctrl.signal);
    if (v !== view) return false;
    v.version = d.progress.version;
    renderSession(v, d);
    return true;
  } catch (e) {
    if (v === view) report(e);
    return false;
  }
}
async function pollLoop(v) {
  const signal = v.ctrl.signal;
  while (!signal.aborted) {
    const q = new URLSearchParams({ wait: '25' });
    if (v.version != null) q.set('since', String(v.version));
    try {
      const p = await api('GET', `/api/sessions/${enc(v.id)}/progress?${q}`, undefined, signal);
      setLive(v, 'live');
      if (!signal.aborted && p.version !== v.version) {
        if (!(await loadSession(v))) await sleep(2000, signal);
      }
    } catch (e) {
      if (signal.aborted) return;
      setLive(v, 'reconnecting…');
      await sleep(2000, signal);
    }
  }
}
function hashId() { try { return decodeURIComponent(location.hash.slice(1)); } catch (_) { return ''; } }
function setLive(v, text) { if (v === view && $('live')) $('live').textContent = text; }

async function act(v, path, btn) {
  btn.disabled = true;
  try {
    await api('POST', `/api/sessions/${enc(v.id)}/${path}`);
    clearError();
    await loadSession(v);
    loadStats();
    loadList();
  } catch (e) {
    report(e);
    btn.disabled = false;
  }
}

function renderSession(v, d) {
  const s = d.session, p = d.progress;
  const total = p.totalPhases || 0, done = (p.completedPhases || []).length;
  const pct = total ? Math.min(100, Math.round((done / total) * 100)) : 0;
  const buttons = el('div', { class: 'row' },
    el('button', { class: 'primary', disabled: !p.canProceed, onclick: (e) => act(v, 'proceed-next-phase', e.target) }, 'Proceed'),
    el('button', { disabled: s.status !== 'FAILED', onclick: (e) => act(v, 'retry', e.target) }, 'Retry'),
    el('button', {
      class: 'danger', disabled: s.status === 'COMPLETED' || s.status === 'CANCELLED',
      onclick: (e) => { if (confirm('Cancel session ' + s.id + '?')) act(v, 'cancel', e.target); },
    }, 'Cancel'));

  const byPhase = new Map();
  for (const st of d.steps || []) {
    if (!byPhase.has(st.phase)) byPhase.set(st.phase, []);
    byPhase.get(st.phase).push(st);
  }
  const phases = [...byPhase.keys()].sort((a, b) => a - b).map((ph) => {
    const steps = byPhase.get(ph).sort((a, b) => (STEP_ORDER[a.step] ?? 9) - (STEP_ORDER[b.step] ?? 9) || a.attempt - b.attempt);
    return el('div', { class: 'phase' + (ph === p.currentPhase ? ' current' : '') },
      el('strong', {}, `Phase ${ph}`), ph === p.currentPhase ? el('span', { class: 'muted' }, ' (current)') : null,
      steps.map(renderStep));
  });

  // replaceChildren neither flattens arrays nor skips nulls: do both here.
  $('view').replaceChildren(...[
    el('div', { class: 'row' },
      el('h2', { style: 'margin:0;flex:1;overflow-wrap:anywhere' }, 'Session ', el('code', {}, s.id)),
      el('span', { id: 'live', class: 'muted' }, 'live'),
      el('button', { title: 'Close', onclick: closeView }, '×')),
    el('div', { class: 'row' }, badge(p.status), s.kind ? el('span', {}, 'kind ', el('code', {}, s.kind)) : null,
      el('span', { class: 'muted' }, `phase ${p.currentPhase}/${total}` + (p.currentStep ? ` · ${p.currentStep}` : '')),
      p.requiresManualTrigger ? el('span', { class: 'badge b-AWAITING_PROCEED' }, 'manual proceed') : null),
    el('div', { class: 'bar', title: `${done}/${total} phases completed` }, el('div', { style: `width:${pct}%` })),
    el('div', { class: 'muted' }, `${done} of ${total} phases completed`),
    s.error ? el('pre', { class: 'err' }, s.error) : null,
    buttons,
    el('div', { class: 'meta' },
      el('span', { class: 'muted' }, 'auto steps'), el('span', {}, String(s.autoSteps)),
      el('span', { class: 'muted' }, 'auto phases'), el('span', {}, String(s.autoPhases)),
      el('span', { class: 'muted' }, 'version'), el('span', {}, String(p.version)),
      el('span', { class: 'muted' }, 'created'), el('span', { title: s.createdAt }, fmtTime(s.createdAt)),
      el('span', { class: 'muted' }, 'updated'), el('span', { title: s.updatedAt }, fmtTime(s.updatedAt))),
    el('h3', {}, 'Input'), el('pre', {}, pretty(s.input)),
    el('h3', {}, 'Phases'), phases.length ? phases : el('p', { class: 'muted' }, 'No steps yet.'),
  ].flat().filter((c) => c != null));
}

function renderStep(st) {
  const times = [['run at', st.runAt], ['started', st.startedAt], ['finished', st.finishedAt]]
    .filter(([, t]) => t).map(([k, t]) => `${k} ${fmtTime(t)}`).join(' · ');
  const attempts = st.attempts || [];
  return el('div', { class: 'step' },
    el('div', { class: 'row', style: 'margin:0' }, el('strong', {}, st.step), badge(st.status),
      el('span', { class: 'muted' }, `attempt ${st.attempt}`),
      st.workerId ? el('span', { class: 'muted' }, 'worker ', el('code', {}, st.workerId)) : null,
      el('span', { class: 'muted', title: 'task ' + st.taskId }, times)),
    st.error ? el('pre', { class: 'err' }, st.error) : null,
    st.result !== undefined && st.result !== null ? el('pre', {}, pretty(st.result)) : null,
    attempts.length ? el('details', {}, el('summary', {}, `Attempts (${attempts.length})`),
      attempts.map((a) => el('div', { class: 'attempt' },
        el('div', { class: 'row', style: 'margin:0' }, el('span', {}, `#${a.attempt}`), badge(a.outcome),
          a.workerId ? el('span', { class: 'muted' }, 'worker ', el('code', {}, a.workerId)) : null,
          el('span', { class: 'muted' }, [a.startedAt && 'started ' + fmtTime(a.startedAt), 'finished ' + fmtTime(a.finishedAt)].filter(Boolean).join(' · '))),
        a.input !== undefined ? el('div', {}, el('span', { class: 'muted' }, 'input'), el('pre', {}, pretty(a.input))) : null,
        a.output !== undefined ? el('div', {}, el('span', { class: 'muted' }, 'output'), el('pre', {}, pretty(a.output))) : null,
        a.error ? el('pre', { class: 'err' }, a.error) : null))) : null);
}

// ---- new session ----
$('newform').addEventListener('submit', async (e) => {
  e.preventDefault();
  const phases = Number($('nphases').value);
  if (!Number.isInteger(phases) || phases < 1) { showError('Phases must be a whole number of at least 1.'); return; }
  let input;
  try { input = JSON.parse($('ninput').value); } catch (err) { showError('Input is not valid JSON: ' + err.message); $('ninput').focus(); return; }
  const body = { phases, input };
  if ($('nid').value.trim()) body.id = $('nid').value.trim();
  if ($('nkind').value.trim()) body.kind = $('nkind').value.trim();
  const btn = e.target.querySelector('button[type=submit]');
  btn.disabled = true;
  try {
    const s = await api('POST', '/api/sessions', body);
    clearError();
    $('nid').value = '';
    openSession(s.id);
    loadList();
    loadStats();
  } catch (err) { report(err); } finally { btn.disabled = false; }
});

// ---- start ----
loadStats();
loadList();
setInterval(loadStats, 5000);
if (hashId()) openSession(hashId());
</script>
</body>
</html>
"""#
}
