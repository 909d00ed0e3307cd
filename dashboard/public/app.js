// Dashboard client: polls the local cloud's dashboard API and renders zones, charts and lists.
// Every figure shown comes from that API, which reads it from the pipeline (shadows, Timestream,
// the dead-letter queue, broker presence) or, for energy and comfort, from the simulation.

const API = 'api';
const STATE_INTERVAL_MS = 1000;
const SERIES_INTERVAL_MS = 10000;
const zoneCards = new Map();
const charts = {};
let lastOk = 0;

const $ = (sel, root = document) => root.querySelector(sel);
const fmt = (v, digits = 0) => (v === undefined || v === null ? '–' : Number(v).toFixed(digits));
const time = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const ago = (ms, now) => {
  const s = Math.round((ms - now) / 1000);
  const a = Math.abs(s);
  const text = a < 90 ? `${a}s` : a < 5400 ? `${Math.round(a / 60)}m` : `${Math.round(a / 3600)}h`;
  return s >= 0 ? `in ${text}` : `${text} ago`;
};

async function getJson(path, init) {
  const res = await fetch(`${API}/${path}`, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `${res.status} ${res.statusText}`);
  return body;
}

function setLive(ok, text) {
  $('#live-dot').className = `dot ${ok ? 'ok' : 'bad'}`;
  $('#live-text').textContent = text;
}

function renderFigures(state) {
  const f = state.figures || {};
  const books = f.books;
  const items = [];
  if (books) {
    items.push(['Readings published', books.published]);
    items.push(['Readings stored', books.stored]);
    items.push(['Dead-lettered', books.deadLettered]);
    items.push(['In flight', books.inFlight, books.inFlight === 0 ? 'ok' : '']);
  } else {
    items.push(['Readings stored', f.stored]);
  }
  items.push(['Commands issued', f.commandsIssued]);
  items.push(['Commands applied', f.commandsApplied]);
  if (f.energy) {
    const saving = f.energy.baselineKWh > 0 ? 1 - f.energy.controlledKWh / f.energy.baselineKWh : undefined;
    items.push(['Energy (controlled)', `${fmt(f.energy.controlledKWh, 1)} kWh`]);
    items.push(['Energy (fixed schedule)', `${fmt(f.energy.baselineKWh, 1)} kWh`]);
    items.push([
      'Simulated saving',
      saving === undefined ? '–' : `${fmt(saving * 100, 0)} %`,
      saving > 0 ? 'ok' : '',
    ]);
  }
  if (f.comfort) {
    for (const [zone, share] of Object.entries(f.comfort)) {
      items.push([`Comfort ${zone}`, share === null ? '–' : `${fmt(share * 100, 0)} %`]);
    }
  }
  $('#figures').innerHTML = items
    .map(
      ([k, v, cls]) =>
        `<div class="figure"><div class="k">${k}</div><div class="v ${cls || ''}">${v ?? '–'}</div></div>`,
    )
    .join('');
  $('#sim-clock').textContent = f.simulatedTime
    ? `simulated time ${new Date(f.simulatedTime).toLocaleString()}`
    : '';
}

function zoneCard(zone) {
  let card = zoneCards.get(zone.id);
  if (card) return card;
  card = $('#zone-template').content.firstElementChild.cloneNode(true);
  card.dataset.zone = zone.id;
  $('.zone-name', card).textContent = zone.name;
  $('.override', card).addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitOverride(zone.id, ev.currentTarget, $('.override-msg', card));
  });
  $('#zones').appendChild(card);
  zoneCards.set(zone.id, card);
  return card;
}

function renderZones(state) {
  const now = state.generatedAt;
  for (const zone of state.zones) {
    const card = zoneCard(zone);
    for (const el of card.querySelectorAll('[data-measure]')) {
      const m = el.dataset.measure;
      const v = zone.readings[m];
      el.textContent = fmt(v, m === 'temperature' ? 1 : 0);
      el.classList.remove('warn', 'bad');
      if (m === 'co2' && v !== undefined)
        el.classList.add(v >= zone.co2HighLimit ? 'bad' : v >= zone.co2Limit ? 'warn' : 'x');
      if (m === 'temperature' && v !== undefined && Math.abs(v - zone.setpoint) > zone.comfortBand)
        el.classList.add('warn');
    }
    $('.setpoint', card).textContent = `${fmt(zone.setpoint, 1)} °C`;
    $('.occupied', card).textContent = zone.scheduledOccupied ? 'scheduled: occupied' : 'scheduled: setback';
    $('.actuators', card).innerHTML = zone.actuators
      .map((a) => {
        const pending = a.desired !== undefined && JSON.stringify(a.desired) !== JSON.stringify(a.reported);
        const override = a.overrideUntil
          ? `<span class="ov" title="operator override">override ${ago(a.overrideUntil, now)}</span>`
          : '';
        const shown = a.reported ?? a.desired;
        const cls = a.kind === 'lighting' ? (Number(shown) > 0 ? 'on' : 'off') : String(shown);
        const text = a.kind === 'lighting' ? `${fmt(shown)}%` : (shown ?? '–');
        const title = `desired ${a.desired ?? '–'} · reported ${a.reported ?? '–'} (${a.thing})`;
        return `<span class="chip ${a.kind} ${cls} ${pending ? 'pending' : ''}" data-kind="${a.kind}" data-thing="${a.thing}" data-reported="${a.reported ?? ''}" data-desired="${a.desired ?? ''}" data-override="${a.overrideUntil ?? ''}" title="${title}">${a.kind}: ${text}${pending ? ` → ${a.desired}` : ''}${override}</span>`;
      })
      .join('');
  }
}

function renderLists(state) {
  const now = state.generatedAt;
  $('#devices').innerHTML = state.devices
    .map(
      (d) =>
        `<li data-thing="${d.thing}" data-connected="${d.connected}"><span class="dot ${d.connected ? 'ok' : 'bad'}"></span>${d.thing} <span class="muted">${d.zone}${d.since ? ` · ${ago(d.since, now)}` : ''}</span></li>`,
    )
    .join('');
  $('#commands').innerHTML =
    state.commands
      .map(
        (c) =>
          `<li>${time(c.at)} <b>${c.thing}</b> ${Object.entries(c.desired)
            .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
            .join(', ')}</li>`,
      )
      .join('') || '<li class="muted">none yet</li>';
  const dlq = state.deadLetters;
  const badge = $('#dlq-count');
  badge.textContent = String(dlq.count);
  badge.className = `badge ${dlq.count > 0 ? 'bad' : ''}`;
  $('#dead-letters').innerHTML =
    dlq.latest
      .map((e) => `<li>${e.at ? time(e.at) : ''} <b>${e.thing ?? e.source}</b> ${e.reason}</li>`)
      .join('') || '<li class="muted">empty</li>';
}

async function submitOverride(zone, form, msg) {
  const data = new FormData(form);
  const kind = String(data.get('kind'));
  const raw = String(data.get('value')).trim();
  const value = kind === 'lighting' ? Number(raw) : raw;
  msg.textContent = 'sending…';
  try {
    const res = await getJson('override', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zone, kind, value, minutes: Number(data.get('minutes')) }),
    });
    msg.textContent = `${kind} = ${raw} until ${time(res.until)} on ${res.things.join(', ')}`;
  } catch (err) {
    msg.textContent = `refused: ${err.message}`;
  }
}

function drawChart(id, series) {
  const el = document.getElementById(id);
  const zones = Object.keys(series.values);
  const data = [series.t.map((t) => t / 1000), ...zones.map((z) => series.values[z])];
  el.dataset.points = String(series.t.length);
  const palette = ['#58a6ff', '#ff7b54', '#7ee2b8', '#f2cc60', '#d2a8ff', '#ffa198'];
  if (charts[id] && charts[id].series.length === zones.length + 1) {
    charts[id].setData(data);
    return;
  }
  charts[id]?.destroy();
  el.innerHTML = '';
  charts[id] = new uPlot(
    {
      width: el.clientWidth || 500,
      height: 220,
      series: [
        {},
        ...zones.map((z, i) => ({ label: z, stroke: palette[i % palette.length], width: 2, spanGaps: true })),
      ],
      axes: [
        { stroke: '#8b9bab', grid: { stroke: '#253241' } },
        { stroke: '#8b9bab', grid: { stroke: '#253241' } },
      ],
    },
    data,
    el,
  );
}

async function refreshState() {
  try {
    const state = await getJson('state');
    lastOk = Date.now();
    $('#building-name').textContent = state.building.name;
    renderFigures(state);
    renderZones(state);
    renderLists(state);
    setLive(true, `live · ${time(state.generatedAt)}`);
    document.body.dataset.ready = 'true';
  } catch (err) {
    setLive(false, `no data: ${err.message}`);
  }
}

async function refreshSeries() {
  for (const measure of ['temperature', 'co2']) {
    try {
      drawChart(`chart-${measure}`, await getJson(`series?measure=${measure}`));
    } catch (err) {
      document.getElementById(`chart-${measure}`).textContent = `chart unavailable: ${err.message}`;
    }
  }
}

setInterval(refreshState, STATE_INTERVAL_MS);
setInterval(refreshSeries, SERIES_INTERVAL_MS);
setInterval(() => {
  if (Date.now() - lastOk > 5000) setLive(false, 'no update for 5 s');
}, 2000);
refreshState();
refreshSeries();
