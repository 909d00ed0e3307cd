// Dashboard client: polls the local cloud's dashboard API and renders zones, charts and lists.
// Every figure shown comes from that API, which reads it from the pipeline (shadows, Timestream,
// the dead-letter queue, broker presence) or, for energy and comfort, from the simulation.
//
// One clock: every time about the building (readings, charts, overrides, commands, dead
// letters, device activity) is the building's time (`state.now`: simulated time in the demo)
// shown in the building's time zone. Only the "live" marker in the header is about the
// software, and says so in its tooltip.

const API = 'api';
const STATE_INTERVAL_MS = 1000;
const SERIES_INTERVAL_MS = 10000;
const CHART_MIN_HEIGHT = 200;
const zoneCards = new Map();
const charts = {};
let lastOk = 0;
let timeZone;

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (v) =>
  String(v).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
const fmt = (v, digits = 0) => (v === undefined || v === null ? '–' : Number(v).toFixed(digits));
/** HH:MM on the building's clock, in its time zone. */
const time = (ms) =>
  Number.isFinite(ms)
    ? new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone })
    : '–';
/** A duration for people: "40 s", "12 min", "2 h 5 min". */
const duration = (ms) => {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
};
/** "just now", "12 min ago", "in 4 min", against the building's time `now`. */
const ago = (ms, now) => {
  const d = ms - now;
  if (Math.abs(d) < 45_000) return 'just now';
  return d > 0 ? `in ${duration(d)}` : `${duration(d)} ago`;
};

async function getJson(path, init) {
  const res = await fetch(`${API}/${path}`, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message || `${res.status} ${res.statusText}`);
  return body;
}

function setLive(ok, text, title = '') {
  $('#live-dot').className = `dot ${ok ? 'ok' : 'bad'}`;
  $('#live-text').textContent = text;
  $('#live-text').title = title;
}

function renderFigures(state) {
  const f = state.figures || {};
  const books = f.books;
  const items = [];
  if (books) {
    items.push(['Readings sent', books.published]);
    items.push(['Readings stored', books.stored]);
    items.push(['Readings rejected', books.deadLettered, books.deadLettered > 0 ? 'warn' : '']);
    items.push(['Still on their way', books.inFlight, books.inFlight === 0 ? 'ok' : '']);
  } else if (f.stored !== undefined) {
    items.push(['Readings stored', f.stored]);
  }
  if (f.commandsIssued !== undefined) {
    items.push(['Commands sent', f.commandsIssued]);
    items.push(['Commands carried out', f.commandsApplied]);
  }
  if (f.energy) {
    const saving = f.energy.baselineKWh > 0 ? 1 - f.energy.controlledKWh / f.energy.baselineKWh : undefined;
    items.push(['Energy used', `${fmt(f.energy.controlledKWh, 1)} kWh`]);
    items.push(['With a fixed schedule', `${fmt(f.energy.baselineKWh, 1)} kWh`]);
    items.push([
      'Saving (simulated)',
      saving === undefined ? '–' : `${fmt(saving * 100, 0)} %`,
      saving > 0 ? 'ok' : saving < 0 ? 'bad' : '',
    ]);
  }
  if (f.comfort) {
    // Both sides of the saving: comfort under the controller, and under the fixed schedule.
    for (const [zone, c] of Object.entries(f.comfort)) {
      items.push(
        c.controlled === null
          ? [`Comfortable: ${zone}`, 'not occupied yet']
          : [
              `Comfortable: ${zone}`,
              `${fmt(c.controlled * 100, 0)} %`,
              c.baseline !== null && c.controlled < c.baseline ? 'warn' : '',
              `fixed schedule ${c.baseline === null ? '–' : `${fmt(c.baseline * 100, 0)} %`} · over ${fmt(c.occupiedHours, 1)} occupied h`,
            ],
      );
    }
  }
  $('#figures').innerHTML = items
    .map(
      ([k, v, cls, note]) =>
        `<div class="figure"><div class="k">${esc(k)}</div><div class="v ${cls || ''}">${esc(v ?? '–')}</div>${note ? `<div class="note">${esc(note)}</div>` : ''}</div>`,
    )
    .join('');
  const day = new Date(state.now).toLocaleDateString('en-GB', { weekday: 'short', timeZone });
  $('#sim-clock').textContent =
    `${state.simulated ? 'simulated ' : ''}building time ${day} ${time(state.now)} (${timeZone})`;
  $('#sim-clock').dataset.now = String(state.now);
}

function floorSection(floor) {
  const id = floor ?? '';
  let section = document.querySelector(`.floor[data-floor="${CSS.escape(id)}"]`);
  if (section) return $('.floor-zones', section);
  section = document.createElement('section');
  section.className = 'floor';
  section.dataset.floor = id;
  section.innerHTML = `<h2 class="floor-name">${floor === undefined ? 'Other zones' : `Floor ${esc(floor)}`}</h2><div class="floor-zones"></div>`;
  $('#zones').appendChild(section);
  return $('.floor-zones', section);
}

const PLACEHOLDERS = { heating: 'on or off', ventilation: 'off, low or high', lighting: '0 to 100 %' };

function zoneCard(zone, grouped) {
  let card = zoneCards.get(zone.id);
  if (card) return card;
  card = $('#zone-template').content.firstElementChild.cloneNode(true);
  card.dataset.zone = zone.id;
  $('.zone-name', card).textContent = zone.name;
  const form = $('.override', card);
  const kinds = new Set(zone.actuators.map((a) => a.kind));
  for (const option of form.querySelectorAll('select[name=kind] option')) {
    if (!kinds.has(option.value)) option.remove();
  }
  const value = $('input[name=value]', form);
  const select = $('select[name=kind]', form);
  const hint = () => {
    value.placeholder = PLACEHOLDERS[select.value] ?? '';
  };
  select.addEventListener('change', hint);
  hint();
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitOverride(zone.id, ev.currentTarget, $('.override-msg', card));
  });
  (grouped ? floorSection(zone.floor) : $('#zones')).appendChild(card);
  zoneCards.set(zone.id, card);
  return card;
}

function renderZones(state) {
  const now = state.now;
  const grouped = state.zones.some((z) => z.floor !== undefined);
  $('#zones').classList.toggle('grouped', grouped);
  for (const zone of state.zones) {
    const card = zoneCard(zone, grouped);
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
    $('.occupied', card).textContent = zone.scheduledOccupied ? 'open (schedule)' : 'closed (schedule)';
    $('.reading-age', card).textContent = zone.readings.at
      ? `readings from ${time(zone.readings.at)}`
      : 'no readings yet';
    $('.actuators', card).innerHTML = zone.actuators
      .map((a) => {
        const pending = a.desired !== undefined && JSON.stringify(a.desired) !== JSON.stringify(a.reported);
        const override = a.overrideUntil
          ? `<span class="ov" title="operator override until ${time(a.overrideUntil)}">manual for ${duration(a.overrideUntil - now)} more</span>`
          : '';
        const shown = a.reported ?? a.desired;
        const cls = a.kind === 'lighting' ? (Number(shown) > 0 ? 'on' : 'off') : String(shown);
        const text = a.kind === 'lighting' ? `${fmt(shown)} %` : (shown ?? '–');
        const title = `asked ${a.desired ?? '–'} · device says ${a.reported ?? '–'} (${a.thing})`;
        return `<span class="chip ${a.kind} ${esc(cls)} ${pending ? 'pending' : ''}" data-kind="${a.kind}" data-thing="${esc(a.thing)}" data-reported="${esc(a.reported ?? '')}" data-desired="${esc(a.desired ?? '')}" data-override="${a.overrideUntil ?? ''}" title="${esc(title)}">${a.kind}: ${esc(text)}${pending ? ` → ${esc(a.desired)}` : ''}${override}</span>`;
      })
      .join('');
  }
}

/** A command's desired state in words: "heating on", "lighting 60 %", "ventilation manual until 10:42". */
function commandText(desired) {
  const parts = [];
  for (const [k, v] of Object.entries(desired)) {
    if (k === 'override' && v && typeof v === 'object') {
      for (const [kind, until] of Object.entries(v)) {
        parts.push(until === null ? `${kind} back to automatic` : `${kind} manual until ${time(until)}`);
      }
    } else if (k === 'lighting') {
      parts.push(`lighting ${v} %`);
    } else {
      parts.push(`${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
    }
  }
  return parts.join(', ');
}

function renderLists(state) {
  const now = state.now;
  $('#devices').innerHTML = state.devices
    .map((d) => {
      const activity = d.lastReading
        ? `last reading ${ago(d.lastReading, now)}`
        : d.lastReport
          ? `last report ${ago(d.lastReport, now)}`
          : d.connected
            ? 'connected, nothing sent yet'
            : d.since
              ? `offline since ${time(d.since)}`
              : 'never connected';
      return `<li data-thing="${esc(d.thing)}" data-connected="${d.connected}" data-last-reading="${d.lastReading ?? ''}"><span class="dot ${d.connected ? 'ok' : 'bad'}"></span>${esc(d.thing)} <span class="muted">${esc(d.zone)} · ${activity}</span></li>`;
    })
    .join('');
  $('#commands').innerHTML =
    state.commands
      .map(
        (c) =>
          `<li data-at="${c.at}"><span class="when">${time(c.at)}</span> <b>${esc(c.thing)}</b> ${esc(commandText(c.desired))}</li>`,
      )
      .join('') || '<li class="muted">none yet</li>';
  const dlq = state.deadLetters;
  const badge = $('#dlq-count');
  badge.textContent = String(dlq.count);
  badge.className = `badge ${dlq.count > 0 ? 'bad' : ''}`;
  $('#dlq-note').textContent =
    dlq.count === 0
      ? ''
      : dlq.latest.length < dlq.count
        ? `newest ${dlq.latest.length} of ${dlq.count}`
        : `all ${dlq.count}, newest first`;
  $('#dead-letters').innerHTML =
    dlq.latest
      .map((e) => {
        const when =
          e.at !== undefined
            ? time(e.at)
            : `<span title="when the queue received it (wall clock)">received ${new Date(e.sentAt).toLocaleTimeString('en-GB')}</span>`;
        return `<li data-at="${e.at ?? ''}"><span class="when">${when}</span> <b>${esc(e.thing ?? e.source)}</b> ${esc(e.reason)}</li>`;
      })
      .join('') || '<li class="muted">empty: every reading was accepted</li>';
}

async function submitOverride(zone, form, msg) {
  const data = new FormData(form);
  const kind = String(data.get('kind'));
  const raw = String(data.get('value')).trim();
  const value = kind === 'lighting' ? Number(raw.replace(/\s*%$/, '')) : raw;
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

function chartSize(el) {
  return { width: Math.max(100, el.clientWidth), height: Math.max(CHART_MIN_HEIGHT, el.clientHeight) };
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
  const axis = { stroke: '#8b9bab', grid: { stroke: '#253241' }, ticks: { stroke: '#253241' } };
  charts[id] = new uPlot(
    {
      ...chartSize(el),
      // Times in the building's time zone, like the rest of the page.
      tzDate: (ts) => (timeZone ? uPlot.tzDate(new Date(ts * 1000), timeZone) : new Date(ts * 1000)),
      // The legend names the zones and their colours; values show while the pointer is on the chart.
      legend: { live: false },
      series: [
        {},
        ...zones.map((z, i) => ({ label: z, stroke: palette[i % palette.length], width: 2, spanGaps: true })),
      ],
      axes: [
        { ...axis, space: 70, values: (_u, ticks) => ticks.map((t) => time(t * 1000)) },
        { ...axis, size: 48 },
      ],
    },
    data,
    el,
  );
  fitChart(el);
}

// Charts follow their panel: the plot takes the panel's width and the height left under the
// legend. The width goes first: the legend wraps by it, and its height is read only then.
function fitChart(el) {
  const chart = charts[el.id];
  if (!chart) return;
  const { width, height } = chartSize(el);
  if (Math.abs(chart.width - width) > 1) chart.setSize({ width, height: chart.height });
  const legend = $('.u-legend', el)?.offsetHeight ?? 0;
  const plotHeight = Math.max(CHART_MIN_HEIGHT - legend, height - legend);
  if (Math.abs(chart.height - plotHeight) > 1) chart.setSize({ width, height: plotHeight });
}
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) fitChart(entry.target);
});
for (const el of document.querySelectorAll('.chart')) resizer.observe(el);

async function refreshState() {
  try {
    const state = await getJson('state');
    lastOk = Date.now();
    timeZone = state.building.timezone;
    $('#building-name').textContent = state.building.name;
    renderFigures(state);
    renderZones(state);
    renderLists(state);
    setLive(
      true,
      'live',
      `last update ${new Date(state.generatedAt).toLocaleTimeString()} (this computer's clock)`,
    );
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
refreshState().then(refreshSeries);
