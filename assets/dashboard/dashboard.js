// reverb-ts dashboard: plain JavaScript, no dependencies. Everything shown that
// comes from clients (channel names, members, event data) is set as text, never
// as HTML. Data: the JSON endpoints under <base>/api (polled) and the debug
// console's Server-Sent Events.
'use strict';
(() => {
  const base = document.querySelector('meta[name="reverb-base"]').content;
  const $ = (id) => document.getElementById(id);
  const MAX_CONSOLE = 500;
  const POLL_MS = 3000;

  const state = {
    apps: [],
    app: null,
    source: null,
    timers: [],
    paused: false,
    events: [],
    /** Errors of other servers of the cluster, as their consoles' events brought them (this server's come from /errors). */
    remoteErrors: [],
    selectedChannel: null,
    refreshSoon: null,
  };

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('data-')) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  async function api(path, options = {}) {
    const init = { credentials: 'same-origin', headers: {}, ...options };
    if (options.json !== undefined) {
      init.method = init.method || 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
      delete init.json;
    }
    const response = await fetch(base + path, init);
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = {};
    }
    if (response.status === 401 && !path.startsWith('/api/login')) {
      showLogin();
      throw new Error('signed out');
    }
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    return body;
  }

  const appPath = (suffix) => `/api/apps/${encodeURIComponent(state.app)}${suffix}`;
  const formatTime = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
  const formatRate = (n) => (n >= 100 ? Math.round(n).toString() : (Math.round(n * 10) / 10).toString());

  // ---- login ------------------------------------------------------------
  let loginMode = 'app';
  for (const tab of document.querySelectorAll('.tab')) {
    tab.addEventListener('click', () => {
      loginMode = tab.dataset.mode;
      for (const other of document.querySelectorAll('.tab')) {
        other.classList.toggle('active', other === tab);
        other.setAttribute('aria-selected', String(other === tab));
      }
      for (const fields of document.querySelectorAll('[data-fields]')) fields.hidden = fields.dataset.fields !== loginMode;
    });
  }

  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const error = $('login-error');
    error.hidden = true;
    const submit = $('login-submit');
    submit.disabled = true;
    const json = loginMode === 'token' ? { token: $('login-token').value } : { app_id: $('login-app-id').value.trim(), secret: $('login-secret').value };
    try {
      const body = await api('/api/login', { json });
      $('login-secret').value = '';
      $('login-token').value = '';
      start(body.apps);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });

  $('logout').addEventListener('click', async () => {
    await api('/api/logout', { json: {} }).catch(() => undefined);
    showLogin();
  });

  function showLogin() {
    stop();
    $('app-view').hidden = true;
    $('session').hidden = true;
    $('login-view').hidden = false;
  }

  // ---- session ------------------------------------------------------------
  function start(apps) {
    state.apps = apps;
    const select = $('app-select');
    select.replaceChildren(...apps.map((app) => el('option', { value: app.id, text: app.enabled === false ? `${app.id} (disabled)` : app.id })));
    const remembered = sessionStorage.getItem('reverb-dashboard-app');
    const initial = apps.some((app) => app.id === remembered) ? remembered : apps[0] && apps[0].id;
    select.value = initial;
    select.parentElement.hidden = apps.length < 2;
    $('login-view').hidden = true;
    $('session').hidden = false;
    $('app-view').hidden = false;
    openApp(initial);
  }

  $('app-select').addEventListener('change', (event) => openApp(event.target.value));

  function stop() {
    for (const timer of state.timers) clearInterval(timer);
    state.timers = [];
    if (state.source) state.source.close();
    state.source = null;
    $('live').classList.remove('on');
  }

  function openApp(appId) {
    stop();
    state.app = appId;
    sessionStorage.setItem('reverb-dashboard-app', appId);
    state.events = [];
    state.remoteErrors = [];
    state.selectedChannel = null;
    renderConsole();
    renderMembers(null, []);
    refresh();
    refreshErrors();
    state.timers.push(setInterval(refresh, POLL_MS));
    state.timers.push(setInterval(refreshErrors, POLL_MS * 3));
    connectConsole();
  }

  function refresh() {
    refreshStats().catch(() => undefined);
    refreshChannels().catch(() => undefined);
    if (state.selectedChannel) refreshMembers().catch(() => undefined);
  }

  /** Connections and channels change with the console's events: refresh shortly after, once. */
  function refreshAfterEvent() {
    if (state.refreshSoon) return;
    state.refreshSoon = setTimeout(() => {
      state.refreshSoon = null;
      refresh();
    }, 250);
  }

  // ---- stats and charts ---------------------------------------------------
  async function refreshStats() {
    const stats = await api(appPath('/stats'));
    $('stat-connections').textContent = String(stats.connections);
    $('stat-connections').dataset.value = String(stats.connections);
    $('stat-connections-sub').textContent = stats.clustered ? `whole cluster · ${stats.local_connections} on this server` : 'open now';
    const last = stats.samples[stats.samples.length - 1];
    $('stat-in').textContent = last ? formatRate(last[2]) : '0';
    $('stat-out').textContent = last ? formatRate(last[3]) : '0';
    lastStats = stats;
    drawCharts();
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The top of the y axis: a round number, and for counts a multiple of 4 so that every grid line is a whole number. */
  function niceMax(value, integer) {
    const target = integer ? Math.max(1, Math.ceil(value / 4)) : value / 4;
    if (target <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(target));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (integer && step === 2.5) continue;
      if (step * power >= target) return step * power * 4;
    }
    return target * 4;
  }

  /**
   * A line chart of up to the last hour, now at the right: the window grows
   * with the samples there are (5 minutes at least), so a young server's
   * chart is not a sliver. Drawn at the element's own width, so text keeps
   * its size on a phone.
   */
  function drawChart(node, samples, series, interval, integer) {
    const width = Math.max(280, Math.round(node.getBoundingClientRect().width) || 600);
    const height = 170, left = 38, right = 10, top = 8, bottom = 22;
    node.setAttribute('viewBox', `0 0 ${width} ${height}`);
    const now = Date.now();
    const oldest = samples.length ? samples[0][0] : now;
    const spanMinutes = Math.min(60, Math.max(5, Math.ceil((now - oldest) / 300000) * 5));
    const from = now - spanMinutes * 60000;
    const label = document.querySelector(`[data-span-for="${node.id}"]`);
    if (label) label.textContent = spanMinutes === 60 ? 'last hour' : `last ${spanMinutes} minutes`;
    const visible = samples.filter((sample) => sample[0] >= from);
    const max = niceMax(Math.max(0, ...visible.flatMap((sample) => series.map((s) => sample[s.index]))), integer);
    const x = (time) => left + ((time - from) / (now - from)) * (width - left - right);
    const y = (value) => top + (1 - value / max) * (height - top - bottom);
    const parts = [];
    for (let i = 0; i <= 4; i++) {
      const value = (max / 4) * i;
      parts.push(svg('line', { class: 'grid', x1: left, x2: width - right, y1: y(value), y2: y(value) }));
      parts.push(svg('text', { class: 'axis', x: left - 6, y: y(value) + 4, 'text-anchor': 'end' }, integer ? String(Math.round(value)) : String(Number(value.toFixed(2)))));
    }
    const tick = spanMinutes <= 5 ? 1 : spanMinutes <= 10 ? 2 : spanMinutes <= 30 ? 5 : 15;
    for (let minutes = spanMinutes; minutes >= 0; minutes -= tick) {
      const anchor = minutes === 0 ? 'end' : minutes === spanMinutes ? 'start' : 'middle';
      parts.push(svg('text', { class: 'axis', x: x(now - minutes * 60000), y: height - 5, 'text-anchor': anchor }, minutes === 0 ? 'now' : `-${minutes}m`));
    }
    for (const s of series) {
      if (visible.length === 0) continue;
      // A gap longer than two intervals (the server was down) breaks the line.
      let d = '';
      let previous = null;
      for (const sample of visible) {
        const jump = previous === null || sample[0] - previous > interval * 2000;
        d += `${jump ? 'M' : 'L'}${x(sample[0]).toFixed(1)},${y(sample[s.index]).toFixed(1)}`;
        previous = sample[0];
      }
      const first = visible[0], lastSample = visible[visible.length - 1];
      if (series.length === 1) {
        parts.push(svg('path', { class: `area ${s.class}`, d: `${d}L${x(lastSample[0]).toFixed(1)},${y(0)}L${x(first[0]).toFixed(1)},${y(0)}Z` }));
      }
      parts.push(svg('path', { class: `line ${s.class}`, d }));
      parts.push(svg('circle', { class: `dot ${s.class}`, cx: x(lastSample[0]).toFixed(1), cy: y(lastSample[s.index]).toFixed(1), r: 3.5 }));
    }
    node.replaceChildren(...parts);
  }

  let lastStats = null;
  function drawCharts() {
    if (!lastStats) return;
    drawChart($('chart-connections'), lastStats.samples, [{ index: 1, class: 'out' }], lastStats.interval, true);
    drawChart($('chart-messages'), lastStats.samples, [{ index: 2, class: 'in' }, { index: 3, class: 'out' }], lastStats.interval, false);
  }
  let resizing = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(drawCharts, 100);
  });

  // ---- channels and members -----------------------------------------------
  async function refreshChannels() {
    const { channels } = await api(appPath('/channels'));
    $('stat-channels').textContent = String(channels.length);
    const subscriptions = channels.reduce((sum, channel) => sum + channel.subscription_count, 0);
    $('stat-channels-sub').textContent = `${subscriptions} subscription${subscriptions === 1 ? '' : 's'}`;
    const rows = channels.map((channel) => {
      const presence = channel.type === 'presence';
      const row = el(
        'tr',
        { class: `${presence ? 'presence' : ''}${channel.name === state.selectedChannel ? ' selected' : ''}`, 'data-channel': channel.name },
        el('td', { text: channel.name }),
        el('td', {}, el('span', { class: 'badge', text: channel.type })),
        el('td', { class: 'num', text: String(channel.subscription_count) }),
        el('td', { class: 'num', text: presence ? String(channel.user_count) : '' }),
      );
      if (presence) {
        row.title = 'Show members';
        row.addEventListener('click', () => {
          state.selectedChannel = channel.name;
          refreshMembers().catch(() => undefined);
          for (const other of $('channels').tBodies[0].rows) other.classList.toggle('selected', other === row);
        });
      }
      return row;
    });
    $('channels').tBodies[0].replaceChildren(...rows);
    $('channels-empty').hidden = channels.length > 0;
    // The first presence channel is shown until another one is picked.
    if (!state.selectedChannel) {
      const presence = channels.find((channel) => channel.type === 'presence');
      if (presence) {
        state.selectedChannel = presence.name;
        refreshMembers().catch(() => undefined);
      }
    }
  }

  async function refreshMembers() {
    const channel = state.selectedChannel;
    try {
      const body = await api(appPath(`/channels/${encodeURIComponent(channel)}/members`));
      if (channel === state.selectedChannel) renderMembers(channel, body.members);
    } catch (failure) {
      if (channel === state.selectedChannel) renderMembers(channel, [], failure.message);
    }
  }

  function renderMembers(channel, members, problem) {
    $('members-channel').textContent = channel ? `${channel} · ${members.length}` : 'select a presence channel';
    const items = members.map((member) => {
      const id = typeof member.id === 'string' ? member.id : JSON.stringify(member.id);
      const info = member.info && typeof member.info === 'object' ? member.info : null;
      const name = info && typeof info.name === 'string' ? info.name : id;
      return el(
        'li',
        { 'data-user': id },
        el('span', { class: 'avatar', text: name.slice(0, 1).toUpperCase() || '?' }),
        el('div', {}, el('div', { text: name }), el('code', { text: `id ${id}${info ? ` · ${JSON.stringify(info)}` : ''}` })),
      );
    });
    if (problem) items.push(el('li', { class: 'muted', text: problem }));
    $('members').replaceChildren(...items);
  }

  // ---- errors ---------------------------------------------------------------
  async function refreshErrorsNow() {
    const body = await api(appPath('/errors'));
    const list = [
      ...body.errors,
      ...(body.unknown_apps || []).map((error) => ({ ...error, kind: `${error.kind} (unknown app)` })),
      ...state.remoteErrors,
    ];
    list.sort((a, b) => b.time - a.time);
    $('errors').replaceChildren(
      ...list.slice(0, 100).map((error) =>
        el(
          'li',
          {},
          el('span', { class: 'kind', text: error.kind + (error.code ? ` ${error.code}` : '') }),
          el('time', { text: formatTime(error.time) }),
          el('div', { text: error.message + (error.channel ? ` · ${error.channel}` : '') }),
        ),
      ),
    );
    $('errors-empty').hidden = list.length > 0;
  }
  const refreshErrors = () => refreshErrorsNow().catch(() => undefined);

  // ---- debug console ------------------------------------------------------
  function connectConsole() {
    const source = new EventSource(base + appPath('/events'));
    state.source = source;
    source.onopen = () => $('live').classList.add('on');
    source.onerror = () => {
      $('live').classList.remove('on');
      // A closed stream (signed out, server gone) is retried by the browser; check the session once.
      if (source.readyState === EventSource.CLOSED) api('/api/session').catch(() => undefined);
    };
    source.onmessage = (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (['connection', 'disconnection', 'subscribed', 'unsubscribed'].includes(event.type)) refreshAfterEvent();
      if (event.type === 'error') {
        if (event.node) {
          const [kind, ...message] = (event.detail || 'error').split(': ');
          state.remoteErrors.unshift({ time: event.time, kind: `${kind} · server ${event.node.slice(0, 6)}`, message: message.join(': '), code: event.code, channel: event.channel });
          state.remoteErrors.length = Math.min(state.remoteErrors.length, 100);
        }
        refreshErrors();
      }
      if (state.paused) return;
      state.events.unshift(event);
      if (state.events.length > MAX_CONSOLE) state.events.length = MAX_CONSOLE;
      renderConsole();
    };
  }

  const TYPE_LABELS = {
    connection: 'Connection',
    disconnection: 'Disconnection',
    subscribed: 'Subscribed',
    unsubscribed: 'Unsubscribed',
    client_event: 'Client event',
    api_message: 'API message',
    webhook: 'Webhook',
    error: 'Error',
  };

  function describe(event) {
    const parts = [];
    if (event.channel) parts.push(`channel ${event.channel}`);
    if (event.event) parts.push(`event ${event.event}`);
    if (event.socket_id) parts.push(`socket ${event.socket_id}`);
    if (event.code !== undefined && event.code !== null) parts.push(`code ${event.code}`);
    if (event.type === 'webhook') parts.push(`status ${event.status === null ? 'no response' : event.status}`);
    if (event.detail) parts.push(event.detail);
    if (event.node) parts.push(`server ${event.node.slice(0, 6)}`);
    return parts.join(' · ');
  }

  function prettyData(data) {
    try {
      return JSON.stringify(JSON.parse(data), null, 1);
    } catch {
      return data;
    }
  }

  function visible(event) {
    const type = $('filter-type').value;
    const channel = $('filter-channel').value.trim();
    if (type && event.type !== type) return false;
    return !channel || (event.channel || '').includes(channel);
  }

  function renderConsole() {
    const shown = state.events.filter(visible).slice(0, 200);
    $('console').replaceChildren(
      ...shown.map((event) =>
        el(
          'li',
          { 'data-type': event.type },
          el('time', { text: formatTime(event.time) }),
          el('span', { class: `type ${event.type}`, text: TYPE_LABELS[event.type] || event.type }),
          el('span', { class: 'what', text: describe(event) }),
          event.data !== undefined && event.type !== 'webhook' ? el('pre', { class: 'data', text: prettyData(event.data) }) : null,
        ),
      ),
    );
    $('console-empty').hidden = shown.length > 0;
    $('console-count').textContent = state.events.length ? `${shown.length} of ${state.events.length}` : '';
  }

  $('filter-channel').addEventListener('input', renderConsole);
  $('filter-type').addEventListener('change', renderConsole);
  $('console-clear').addEventListener('click', () => {
    state.events = [];
    renderConsole();
  });
  $('console-pause').addEventListener('click', (event) => {
    state.paused = !state.paused;
    event.target.textContent = state.paused ? 'Resume' : 'Pause';
  });

  // ---- publish --------------------------------------------------------------
  $('publish-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = $('publish-result');
    const submit = $('publish-submit');
    submit.disabled = true;
    try {
      const body = await api(appPath('/publish'), {
        json: { channel: $('publish-channel').value.trim(), event: $('publish-event').value.trim(), data: $('publish-data').value },
      });
      result.textContent = `Published ${body.published.event} to ${body.published.channel}.`;
      result.className = 'result ok';
    } catch (failure) {
      result.textContent = failure.message;
      result.className = 'result bad';
    } finally {
      result.hidden = false;
      submit.disabled = false;
    }
  });

  // ---- start ------------------------------------------------------------------
  fetch(base + '/api/session', { credentials: 'same-origin' })
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error('signed out'))))
    .then((body) => start(body.apps), () => showLogin());
})();
