// Baton's dashboard. The server renders each page's frame (Resources/dashboard/*.mustache);
// this script reads the data from /api with the token, if the server asks for one, and puts
// it into the DOM as text (never as HTML). It follows changes through long-polls: the list
// through GET /api/events, one session through its progress; there is no timer.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const STEPS = ['THINK', 'EXECUTE', 'INTEGRATE'];
  const STATUSES = ['PENDING', 'THINKING', 'EXECUTING', 'INTEGRATING', 'AWAITING_PROCEED', 'COMPLETED', 'FAILED', 'CANCELLED'];
  const TOKEN_KEY = 'baton.apiToken';
  const WAIT_SECONDS = '25';

  // ---- DOM helpers: children that are not nodes become text nodes ----

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child != null && child !== false) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }
  // Replaces a node's children; flattens arrays and skips null, as el() does.
  function fill(node, ...children) {
    node.replaceChildren(...children.flat(Infinity).filter((c) => c != null && c !== false)
      .map((c) => (c instanceof Node ? c : String(c))));
  }
  const badge = (status) => el('span', { class: 'badge b-' + String(status).replace(/[^A-Z_]/gi, '') }, String(status));
  const pretty = (value) => JSON.stringify(value, null, 2);
  const code = (text) => el('code', {}, text);
  function time(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    return isNaN(date) ? String(iso) : date.toLocaleString();
  }
  function timeEl(iso) { return iso ? el('time', { datetime: iso }, time(iso)) : ''; }
  function seconds(value) {
    if (value == null || !isFinite(value)) return '';
    if (value < 1) return Math.round(value * 1000) + ' ms';
    if (value < 120) return (Math.round(value * 10) / 10) + ' s';
    if (value < 7200) return Math.round(value / 60) + ' min';
    return (Math.round(value / 360) / 10) + ' h';
  }
  function between(start, end) {
    if (!start || !end) return '';
    const ms = new Date(end) - new Date(start);
    return isFinite(ms) ? seconds(ms / 1000) : '';
  }
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // ---- messages ----

  function notify(message) {
    $('notice-text').textContent = message;
    $('notice').hidden = false;
  }
  function clearNotice() {
    $('notice').hidden = true;
    $('notice-text').textContent = '';
  }
  $('notice-close').addEventListener('click', clearNotice);
  function setLive(text) { $('live').textContent = text; }

  // ---- the API, with the token when the server asks for one ----

  class APIError extends Error {
    constructor(message, status, code) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const storedToken = () => sessionStorage.getItem(TOKEN_KEY) || '';
  let tokenPrompt = null;  // one prompt for every call that got a 401

  // Shows the token form (only after a 401) and resolves once a token is entered.
  function askForToken(refused) {
    $('token-message').textContent = refused
      ? 'The server refused this token. Enter the right one (BATON_API_TOKEN, or BATON_API_READ_TOKEN to only read).'
      : 'This server needs an API token to show its data (BATON_API_TOKEN, or BATON_API_READ_TOKEN to only read).';
    $('token-form').hidden = false;
    $('token-form').dataset.state = refused ? 'refused' : 'missing';
    if (!tokenPrompt) {
      tokenPrompt = new Promise((resolve) => {
        const form = $('token-form');
        const submit = (event) => {
          event.preventDefault();
          const value = $('token-input').value.trim();
          if (!value) return;
          sessionStorage.setItem(TOKEN_KEY, value);
          $('token-input').value = '';
          form.hidden = true;
          form.removeEventListener('submit', submit);
          tokenPrompt = null;
          resolve();
        };
        form.addEventListener('submit', submit);
      });
      $('token-input').focus();
    }
    return tokenPrompt;
  }

  async function api(method, path, body, signal) {
    for (;;) {
      const headers = { Accept: 'application/json' };
      const token = storedToken();
      if (token) headers.Authorization = 'Bearer ' + token;
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(path, {
        method, headers, signal, cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let data = null;
      if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
      if (response.status === 401) {
        // Asked once: the token is kept for the tab, and every waiting call goes on with it.
        await askForToken(token !== '');
        continue;
      }
      if (!response.ok) {
        const error = data && data.error;
        throw new APIError(error && error.message ? error.message : `HTTP ${response.status}`, response.status, error && error.code);
      }
      return data;
    }
  }

  // Runs `refresh` now and again after every change the server reports, one request at a time.
  async function followChanges(refresh) {
    let cursor = null;
    let failures = 0;
    for (;;) {
      try {
        const query = new URLSearchParams({ wait: cursor ? WAIT_SECONDS : '0' });
        if (cursor) query.set('since', cursor);
        const changes = await api('GET', '/api/events?' + query);
        cursor = changes.cursor;
        failures = 0;
        setLive('live');
        if (changes.all || changes.sessions.length) await refresh(changes);
      } catch (error) {
        failures += 1;
        setLive('reconnecting…');
        if (error instanceof APIError && error.status < 500) notify(error.message);
        await pause(Math.min(15000, 500 * 2 ** failures));  // back off while the server is away
      }
    }
  }

  // Calls `work` once at a time; calls that arrive meanwhile fold into one more run.
  function coalesced(work) {
    let running = null;
    let again = false;
    return async function run() {
      if (running) { again = true; return running; }
      running = (async () => {
        do {
          again = false;
          try { await work(); } catch (error) { notify(error.message); }
        } while (again);
      })();
      try { await running; } finally { running = null; }
    };
  }

  // ---- the list of sessions (/) ----

  function sessionHref(id) { return '/sessions/' + enc(id); }

  function listPage() {
    const params = new URLSearchParams(location.search);
    const status = params.get('status') || '';
    const kind = params.get('kind') || '';
    const cursor = params.get('cursor') || '';
    $('find').addEventListener('submit', (event) => {
      event.preventDefault();
      const id = $('find-id').value.trim();
      if (id) location.assign(sessionHref(id));
    });
    const first = new URLSearchParams();
    if (status) first.set('status', status);
    if (kind) first.set('kind', kind);
    $('first-page').href = '/' + (first.toString() ? '?' + first : '');
    $('first-page').hidden = !cursor;

    async function loadRows() {
      const query = new URLSearchParams({ limit: '50' });
      if (status) query.set('status', status);
      if (kind) query.set('kind', kind);
      if (cursor) query.set('cursor', cursor);
      const page = await api('GET', '/api/sessions?' + query);
      const rows = page.sessions.map((s) => el('tr', { 'data-id': s.id, 'data-status': s.status },
        el('td', { 'data-label': 'Id', class: 'id' }, el('a', { href: sessionHref(s.id) }, s.id)),
        el('td', { 'data-label': 'Kind' }, s.kind),
        el('td', { 'data-label': 'Status' }, badge(s.status)),
        el('td', { 'data-label': 'Phase' }, `${s.phase} of ${s.totalPhases}`),
        el('td', { 'data-label': 'Step' }, s.step || '—'),
        el('td', { 'data-label': 'Updated' }, timeEl(s.updatedAt))));
      if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No sessions match.')));
      fill($('rows'), ...rows);
      const next = new URLSearchParams(first);
      if (page.nextCursor) next.set('cursor', page.nextCursor);
      $('next-page').href = '/?' + next;
      $('next-page').hidden = !page.nextCursor;
      $('page-info').textContent = `${page.sessions.length} shown` + (cursor ? ' (a later page)' : '');
    }

    async function loadCounts() {
      const stats = await api('GET', '/api/stats');
      const kinds = stats.kinds || [];
      const used = STATUSES.filter((st) => kinds.some((k) => (k.sessions || {})[st]));
      if (!kinds.length || !used.length) {
        fill($('counts'), el('p', { class: 'muted' }, 'No sessions yet.'));
        return;
      }
      const estimated = (st) => stats.finishedEstimated && (st === 'COMPLETED' || st === 'CANCELLED');
      const link = (k, st, n) => {
        const q = new URLSearchParams();
        if (k != null) q.set('kind', k);
        if (st) q.set('status', st);
        const current = (k ?? '') === kind && (st || '') === status;
        return el('a', { href: '/?' + q, 'aria-current': current ? 'true' : null, 'data-count': `${k ?? '*'}/${st || '*'}` },
          (estimated(st) ? '~' : '') + String(n));
      };
      const totals = {};
      for (const k of kinds) for (const st of used) totals[st] = (totals[st] || 0) + ((k.sessions || {})[st] || 0);
      const table = el('table', { class: 'counts' },
        el('caption', { class: 'sr-only' }, 'Sessions by kind and status; each number links to those sessions'),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Kind'), used.map((st) => el('th', { scope: 'col' }, badge(st))))),
        el('tbody', {},
          kinds.map((k) => el('tr', {}, el('th', { scope: 'row' }, el('a', { href: '/?kind=' + enc(k.kind) }, k.kind)),
            used.map((st) => el('td', {}, (k.sessions || {})[st] ? link(k.kind, st, k.sessions[st]) : '·')))),
          kinds.length > 1 ? el('tr', { class: 'total' }, el('th', { scope: 'row' }, 'All kinds'),
            used.map((st) => el('td', {}, totals[st] ? link(null, st, totals[st]) : '·'))) : null));
      fill($('counts'), table);
    }

    const refresh = coalesced(() => Promise.all([loadRows(), loadCounts()]));
    followChanges(refresh);
  }

  // ---- one session (/sessions/{id}) ----

  function sessionPage() {
    const id = document.body.dataset.sessionId;
    const state = { detail: null, version: null, selected: null, actionKey: null };

    async function load() {
      try {
        const detail = await api('GET', '/api/sessions/' + enc(id));
        state.detail = detail;
        state.version = detail.progress.version;
        render();
        return true;
      } catch (error) {
        if (error.status === 404) {
          fill($('summary'), el('p', { class: 'error' }, 'There is no session with this id. ', el('a', { href: '/' }, 'See all sessions.')));
          return false;
        }
        throw error;
      }
    }

    // Waits on the session's progress (long-poll) and reads the whole session when it changed.
    async function follow() {
      let failures = 0;
      for (;;) {
        try {
          if (state.version == null) {
            if (!(await load())) return;
            setLive('live');
          }
          const query = new URLSearchParams({ wait: WAIT_SECONDS, since: String(state.version) });
          const progress = await api('GET', `/api/sessions/${enc(id)}/progress?${query}`);
          failures = 0;
          setLive('live');
          if (progress.version !== state.version) await load();
        } catch (error) {
          failures += 1;
          setLive('reconnecting…');
          if (error instanceof APIError && error.status < 500 && error.status !== 404) notify(error.message);
          await pause(Math.min(15000, 500 * 2 ** failures));  // back off while the server is away
        }
      }
    }

    function render() {
      const { session: s, progress: p } = state.detail;
      const done = (p.completedPhases || []).length;
      fill($('summary'), 
        el('p', { class: 'row summary' },
          el('span', { id: 'status', 'data-status': s.status }, badge(s.status)),
          el('span', {}, 'kind ', code(s.kind)),
          el('span', {}, `phase ${p.currentPhase} of ${p.totalPhases}` + (p.currentStep ? ` · ${p.currentStep}` : '')),
          el('span', { class: 'muted' }, `${done} of ${p.totalPhases} phases done`),
          el('span', { class: 'muted' }, 'updated ', timeEl(s.updatedAt))),
        el('progress', { max: p.totalPhases || 1, value: done, 'aria-label': `${done} of ${p.totalPhases} phases done` }),
        s.error ? el('pre', { class: 'error', id: 'session-error' }, s.error) : null);
      renderActions(s, p);
      renderGrid();
      renderStep();
      renderHistory(s);
      $('input').textContent = pretty(s.input);
    }

    // The buttons that apply now; the proceed form is left alone while it stays (a note being typed survives updates).
    function renderActions(s, p) {
      const canRetry = s.status === 'FAILED';
      const canCancel = s.status !== 'COMPLETED' && s.status !== 'CANCELLED';
      const key = [p.canProceed, canRetry, canCancel, p.currentPhase, p.currentStep].join('|');
      $('actions').hidden = !(p.canProceed || canRetry || canCancel);
      $('retry').hidden = !canRetry;
      $('cancel').hidden = !canCancel;
      if (!canCancel) $('cancel-confirm').hidden = true;
      $('gate').hidden = !p.canProceed;
      if (p.canProceed && key !== state.actionKey) renderGateResults();
      state.actionKey = key;
    }

    // At the gate: what the steps before it produced, for review.
    function renderGateResults() {
      const finished = state.detail.steps.filter((st) => st.status === 'COMPLETED' && st.finishedAt);
      if (!finished.length) { fill($('gate-results'), el('p', { class: 'muted' }, 'No step has finished yet.')); return; }
      const last = finished.reduce((a, b) => (new Date(a.finishedAt) >= new Date(b.finishedAt) ? a : b));
      const steps = finished.filter((st) => st.phase === last.phase).sort((a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step));
      fill($('gate-results'), 
        el('p', {}, `Phase ${last.phase} finished. Its results:`),
        steps.map((st) => el('div', { class: 'result' }, el('h4', {}, st.step), el('pre', {}, pretty(st.result)))));
    }

    function records() {
      const byCell = new Map();
      for (const st of state.detail.steps) byCell.set(`${st.phase}/${st.step}`, st);
      return byCell;
    }

    function renderGrid() {
      const { progress: p } = state.detail;
      const byCell = records();
      if (!state.selected) {
        const current = p.currentStep ? `${p.currentPhase}/${p.currentStep}` : null;
        state.selected = current && byCell.has(current) ? current : null;
      }
      const rows = [];
      for (let phase = 1; phase <= p.totalPhases; phase += 1) {
        rows.push(el('tr', { class: phase === p.currentPhase ? 'current' : null },
          el('th', { scope: 'row' }, `Phase ${phase}`),
          STEPS.map((step) => {
            const key = `${phase}/${step}`;
            const st = byCell.get(key);
            if (!st) return el('td', { 'data-label': step, class: 'muted' }, 'not yet');
            const took = between(st.startedAt, st.finishedAt);
            return el('td', { 'data-label': step },
              el('button', {
                type: 'button', class: 'cell', 'data-cell': key, 'aria-pressed': state.selected === key ? 'true' : 'false',
                'aria-label': `Phase ${phase} ${step}: ${st.status}, attempt ${st.attempt}` + (took ? `, took ${took}` : ''),
                onclick: () => { state.selected = key; renderGrid(); renderStep(); $('step-heading').focus(); },
              }, badge(st.status), el('span', { class: 'muted' }, ` #${st.attempt}` + (took ? ` · ${took}` : ''))));
          })));
      }
      fill($('grid'), el('table', { class: 'cards grid' },
        el('caption', { class: 'sr-only' }, 'Each phase\'s steps; choose one to see its attempts'),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Phase'), STEPS.map((s) => el('th', { scope: 'col' }, s)))),
        el('tbody', {}, rows)));
    }

    function renderStep() {
      const st = state.selected && records().get(state.selected);
      $('step').hidden = !st;
      if (!st) return;
      $('step-heading').textContent = `Phase ${st.phase} · ${st.step}`;
      const attempts = st.attempts || [];
      fill($('step-body'), 
        el('dl', { class: 'meta' },
          el('dt', {}, 'Status'), el('dd', {}, badge(st.status)),
          el('dt', {}, 'Attempt'), el('dd', {}, String(st.attempt)),
          el('dt', {}, 'Task'), el('dd', {}, String(st.taskId)),
          el('dt', {}, 'Run at'), el('dd', {}, timeEl(st.runAt)),
          st.startedAt ? [el('dt', {}, 'Started'), el('dd', {}, timeEl(st.startedAt))] : null,
          st.finishedAt ? [el('dt', {}, 'Finished'), el('dd', {}, timeEl(st.finishedAt), ' (', between(st.startedAt, st.finishedAt), ')')] : null,
          st.workerId ? [el('dt', {}, 'Worker'), el('dd', {}, code(st.workerId))] : null),
        st.error ? [el('h3', {}, 'Error'), el('pre', { class: 'error' }, st.error)] : null,
        st.result !== undefined && st.result !== null ? [el('h3', {}, 'Result'), el('pre', { class: 'step-result' }, pretty(st.result))] : null,
        el('h3', {}, `Attempts (${attempts.length})`),
        attempts.length ? el('ol', { class: 'attempts' }, attempts.map((a) => el('li', {},
          el('p', { class: 'row' }, el('strong', {}, `#${a.attempt}`), badge(a.outcome),
            a.workerId ? el('span', { class: 'muted' }, 'worker ', code(a.workerId)) : null,
            el('span', { class: 'muted' }, a.startedAt ? ['started ', timeEl(a.startedAt), ' · '] : null, 'finished ', timeEl(a.finishedAt),
              a.startedAt ? ` · took ${between(a.startedAt, a.finishedAt)}` : '')),
          a.input !== undefined ? el('details', {}, el('summary', {}, 'Input'), el('pre', {}, pretty(a.input))) : null,
          a.output !== undefined ? [el('h4', {}, 'Output'), el('pre', {}, pretty(a.output))] : null,
          a.error ? [el('h4', {}, 'Error'), el('pre', { class: 'error' }, a.error)] : null)))
          : el('p', { class: 'muted' }, 'No attempt has finished yet.'));
    }

    function renderHistory(s) {
      const items = [{ at: s.createdAt, node: el('span', {}, 'Created') }];
      for (const r of state.detail.reviews || []) {
        items.push({
          at: r.at, review: true,
          node: el('div', { class: 'review' },
            el('span', {}, `Proceeded to phase ${r.phase} ${r.step} by `, el('strong', {}, r.reviewer)),
            r.note ? el('blockquote', { class: 'note' }, r.note) : null,
            r.payload !== undefined && r.payload !== null ? el('pre', {}, pretty(r.payload)) : null),
        });
      }
      for (const st of state.detail.steps) {
        for (const a of st.attempts || []) {
          if (a.outcome !== 'SUCCEEDED') {
            items.push({ at: a.finishedAt, node: el('span', {}, `Phase ${st.phase} ${st.step} attempt ${a.attempt} `, badge(a.outcome), a.error ? ': ' + a.error : '') });
          }
        }
      }
      if (s.status === 'COMPLETED' || s.status === 'CANCELLED' || s.status === 'FAILED') {
        items.push({ at: s.updatedAt, node: el('span', {}, badge(s.status)) });
      }
      items.sort((a, b) => new Date(a.at) - new Date(b.at));
      fill($('history'), ...items.map((item) => el('li', { class: item.review ? 'is-review' : null }, timeEl(item.at), ' ', item.node)));
    }

    async function act(button, path, body) {
      button.disabled = true;
      try {
        await api('POST', `/api/sessions/${enc(id)}/${path}`, body);
        clearNotice();
        await load();
        return true;
      } catch (error) {
        notify(error.message);
        return false;
      } finally {
        button.disabled = false;
      }
    }

    $('proceed-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {};
      const note = $('proceed-note').value.trim();
      const payloadText = $('proceed-payload').value.trim();
      const reviewer = $('proceed-reviewer').value.trim();
      if (note) body.note = note;
      if (reviewer) body.reviewer = reviewer;
      if (payloadText) {
        try { body.payload = JSON.parse(payloadText); } catch (error) {
          notify('The payload is not valid JSON: ' + error.message);
          $('proceed-payload').focus();
          return;
        }
      }
      // Without a note, payload or reviewer nothing is sent: a plain proceed.
      if (await act($('proceed'), 'proceed-next-phase', Object.keys(body).length ? body : undefined)) {
        $('proceed-note').value = '';
        $('proceed-payload').value = '';
      }
    });
    $('retry').addEventListener('click', () => act($('retry'), 'retry'));
    $('cancel').addEventListener('click', () => { $('cancel-confirm').hidden = false; $('cancel-no').focus(); });
    $('cancel-no').addEventListener('click', () => { $('cancel-confirm').hidden = true; $('cancel').focus(); });
    $('cancel-yes').addEventListener('click', async () => {
      if (await act($('cancel-yes'), 'cancel')) $('cancel-confirm').hidden = true;
    });

    // Bring the session into view on a small screen (the heading is at the top already).
    $('main').focus({ preventScroll: true });
    follow();
  }

  // ---- statistics (/statistics) ----

  function statisticsPage() {
    async function load() {
      const stats = await api('GET', '/api/stats');
      fill($('stats-at'), 'As of ', timeEl(stats.at), stats.finishedEstimated ? ' (COMPLETED and CANCELLED counts are estimates)' : '');
      const kinds = stats.kinds || [];
      if (!kinds.length) { fill($('kinds'), el('p', { class: 'muted' }, 'No sessions yet.')); return; }
      const headers = ['Kind', 'Sessions', 'Steps per minute (1/5/15 min)', 'Failure rate', 'Step time p50 / p95', 'Ready steps', 'Oldest ready', 'At the gate'];
      fill($('kinds'), el('table', { class: 'cards stats' },
        el('caption', { class: 'sr-only' }, 'Statistics by kind'),
        el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, kinds.map((k) => el('tr', { 'data-kind': k.kind },
          el('th', { scope: 'row', 'data-label': headers[0] }, k.kind),
          el('td', { 'data-label': headers[1] }, el('span', { class: 'chips' },
            STATUSES.filter((st) => (k.sessions || {})[st]).map((st) => el('a', { href: `/?kind=${enc(k.kind)}&status=${st}` }, badge(`${st} ${k.sessions[st]}`))))),
          el('td', { 'data-label': headers[2] }, ['1m', '5m', '15m'].map((w) => String(Math.round((k.stepsPerMinute[w] || 0) * 10) / 10)).join(' / ')),
          el('td', { 'data-label': headers[3] }, k.failureRate == null ? '—' : (Math.round(k.failureRate * 1000) / 10) + ' %'),
          el('td', { 'data-label': headers[4] }, k.stepSeconds && k.stepSeconds.p50 != null ? `${seconds(k.stepSeconds.p50)} / ${seconds(k.stepSeconds.p95)}` : '—'),
          el('td', { 'data-label': headers[5] }, String(k.readySteps)),
          el('td', { 'data-label': headers[6] }, k.oldestReadySeconds == null ? '—' : seconds(k.oldestReadySeconds)),
          el('td', { 'data-label': headers[7] }, k.atGate ? el('a', { href: `/?kind=${enc(k.kind)}&status=AWAITING_PROCEED` }, String(k.atGate)) : '0'))))));
    }
    const refresh = coalesced(async () => { await load(); await pause(1000); });  // at most one read a second
    followChanges(refresh);
  }

  // ---- schedules and watches (/schedules) ----

  function schedulesPage() {
    async function load() {
      const [list, watches, stats] = await Promise.all([api('GET', '/api/schedules'), api('GET', '/api/watches'), api('GET', '/api/stats')]);
      const live = new Map((stats.schedules || []).map((s) => [s.name, s]));
      if (!list.schedules.length) {
        fill($('schedules'), el('p', { class: 'muted' }, 'No schedules. Add one with ', code('baton schedule add'), ' or POST /api/schedules.'));
      } else {
        const headers = ['Name', 'Kind', 'When', 'Next run', 'Last run', 'Last session', ''];
        fill($('schedules'), el('table', { class: 'cards' },
          el('caption', { class: 'sr-only' }, 'Schedules'),
          el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
          el('tbody', {}, list.schedules.map((s) => {
            const now = live.get(s.name) || {};
            const button = el('button', { type: 'button', 'aria-label': `Run ${s.name} now` }, 'Run now');
            const result = el('span', { class: 'muted', 'aria-live': 'polite' });
            button.addEventListener('click', async () => {
              button.disabled = true;
              try {
                const session = await api('POST', `/api/schedules/${enc(s.name)}/run-now`);
                fill(result, 'started ', el('a', { href: sessionHref(session.id) }, session.id));
              } catch (error) { notify(error.message); } finally { button.disabled = false; }
            });
            return el('tr', { 'data-schedule': s.name },
              el('th', { scope: 'row', 'data-label': headers[0] }, s.name),
              el('td', { 'data-label': headers[1] }, s.kind),
              el('td', { 'data-label': headers[2] }, s.cron ? [code(s.cron), ` (${s.timeZone})`] : `every ${seconds(s.everySeconds)}`),
              el('td', { 'data-label': headers[3] }, s.nextRunAt ? timeEl(s.nextRunAt) : '—'),
              el('td', { 'data-label': headers[4] }, now.lastRunAt ? [timeEl(now.lastRunAt), ' ', now.lastRun || ''] : '—'),
              el('td', { 'data-label': headers[5] }, now.lastSession ? [el('a', { href: sessionHref(now.lastSession) }, now.lastSession), ' ', now.lastSessionStatus ? badge(now.lastSessionStatus) : ''] : '—'),
              el('td', { 'data-label': 'Run now' }, button, ' ', result));
          }))));
      }
      const queued = new Map((stats.watches || []).map((w) => [`${w.table}/${w.kind}`, w.queued]));
      if (!watches.watches.length) {
        fill($('watches'), el('p', { class: 'muted' }, 'No watched tables. Add one with ', code('baton watch add'), '.'));
      } else {
        const headers = ['Table', 'Kind', 'Key column', 'Columns', 'Phases', 'Queued', 'Since'];
        fill($('watches'), el('table', { class: 'cards' },
          el('caption', { class: 'sr-only' }, 'Watched tables'),
          el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
          el('tbody', {}, watches.watches.map((w) => el('tr', {},
            el('th', { scope: 'row', 'data-label': headers[0] }, code(w.table), w.tableExists ? '' : ' (dropped)'),
            el('td', { 'data-label': headers[1] }, el('a', { href: '/?kind=' + enc(w.kind) }, w.kind)),
            el('td', { 'data-label': headers[2] }, code(w.keyColumn)),
            el('td', { 'data-label': headers[3] }, w.columns ? w.columns.join(', ') : 'any'),
            el('td', { 'data-label': headers[4] }, String(w.phases)),
            el('td', { 'data-label': headers[5] }, String(queued.get(`${w.table}/${w.kind}`) ?? 0)),
            el('td', { 'data-label': headers[6] }, timeEl(w.createdAt)))))));
      }
    }
    const refresh = coalesced(async () => { await load(); await pause(1000); });  // at most one read a second
    followChanges(refresh);
  }

  const pages = { sessions: listPage, session: sessionPage, statistics: statisticsPage, schedules: schedulesPage };
  (pages[document.body.dataset.page] || (() => {}))();
})();
