/**
 * The dashboard in a real browser: headless Chromium driven by playwright-core, against the
 * whole demo (local cloud, deployed pipeline, real agents on the simulated building) on
 * ephemeral ports. Every value checked on the page comes through the dashboard API from the
 * pipeline; the shadow side of overrides is checked with the AWS SDK against the local API.
 *
 * Chromium comes from the OS (`apt-get install -y chromium`; .ci/run installs it). Without
 * /usr/bin/chromium the suite is skipped and says so.
 *
 * Set ZONECTL_UPDATE_SCREENSHOT=1 to also write the screenshot to docs/dashboard.png.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetThingShadowCommand, IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  COMMAND_SHADOW_NAME,
  type DesiredCommandState,
  localClientConfig,
  parseBuildingConfigText,
} from '../../contracts';
import { type Demo, startDemo } from '../../demo/demo';
import { recordingLogger } from '../../local/common/log';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SKIPPED = hasChromium
  ? ''
  : ` (skipped: ${CHROMIUM} is missing; install it with \`apt-get install -y chromium\`)`;
if (!hasChromium) console.warn(`dashboard browser tests${SKIPPED}`);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CONFIG_PATH = join(REPO_ROOT, 'building.json');
const config = parseBuildingConfigText(readFileSync(CONFIG_PATH, 'utf8'), CONFIG_PATH);
/** A simulated day at 600x lasts 144 s of wall time: fast enough for the whole suite. */
const SPEED = 600;
const DURATION_SECONDS = 144;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const OVERRIDE_ZONE = 'meeting-a';
const OVERRIDE_THING = 'hq-meeta-room';
/** A level the zone controller never sets (it steps lighting by 20 %). */
const OVERRIDE_LIGHTING = 50;
/** Minutes of building (simulated) time: a few seconds of wall time at SPEED. */
const OVERRIDE_MINUTES = 30;

/** How often the page is polled. */
const POLL_MS = 250;

describe.skipIf(!hasChromium)(`the dashboard in Chromium${SKIPPED}`, () => {
  const logger = recordingLogger();
  let root: string;
  let demo: Demo | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let shadows: IoTDataPlaneClient;
  let url: string;

  const desiredOf = async (thing: string): Promise<DesiredCommandState> => {
    const out = await shadows.send(
      new GetThingShadowCommand({ thingName: thing, shadowName: COMMAND_SHADOW_NAME }),
    );
    const doc = JSON.parse(new TextDecoder().decode(out.payload)) as {
      state?: { desired?: DesiredCommandState };
    };
    return doc.state?.desired ?? {};
  };
  const zone = (id: string) => page.locator(`.zone[data-zone="${id}"]`);
  /** Each chart's panel width, the plot's width and the gap between the plot and the panel's bottom. */
  const chartFit = () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll('.chart-panel'), (panel) => {
        const p = panel.getBoundingClientRect();
        const plot = panel.querySelector('.uplot')!.getBoundingClientRect();
        return { width: p.width, plotWidth: plot.width, gapBelow: p.bottom - plot.bottom };
      }),
    );
  const expectChartsFit = async () => {
    for (const c of await chartFit()) {
      expect(c.plotWidth, 'the chart as wide as its panel').toBeGreaterThan(c.width - 40);
      expect(c.gapBelow, 'the chart reaches the bottom of its panel').toBeLessThan(30);
      expect(c.gapBelow, 'the chart stays inside its panel').toBeGreaterThanOrEqual(0);
    }
  };
  /** The building's time the page shows (simulated time in the demo). */
  const buildingNow = async () => Number(await page.locator('#sim-clock').getAttribute('data-now'));
  const chip = (zoneId: string, kind: string) => zone(zoneId).locator(`.chip[data-kind="${kind}"]`);
  const submitOverride = async (zoneId: string, kind: string, value: string, minutes: number) => {
    const form = zone(zoneId).locator('form.override');
    await form.locator('select[name=kind]').selectOption(kind);
    await form.locator('input[name=value]').fill(value);
    await form.locator('input[name=minutes]').fill(String(minutes));
    // Enter submits the form as a keyboard user would (see the Override button test).
    await form.locator('input[name=minutes]').press('Enter');
  };
  const overrideMessage = async (zoneId: string, prefix: string) =>
    vi.waitFor(
      async () => {
        const text = (await zone(zoneId).locator('.override-msg').textContent()) ?? '';
        expect(text.startsWith(prefix), `override message starting '${prefix}' in ${zoneId}: '${text}'`).toBe(
          true,
        );
        return text;
      },
      { timeout: 15_000, interval: POLL_MS },
    );

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'dashboard-browser-'));
    try {
      demo = await startDemo({
        repoRoot: REPO_ROOT,
        configPath: CONFIG_PATH,
        stateDir: join(root, 'state'),
        speed: SPEED,
        seed: 3,
        hours: (DURATION_SECONDS * SPEED) / 3600,
        headless: false,
        mqttPort: 0,
        apiPort: 0,
        // A few rejected readings, for the dead-letter panel.
        glitchRate: 0.02,
        logger,
        progress: (step, of, title, detail) => logger.info(`[${step}/${of}] ${title} ${detail ?? ''}`),
      });
    } catch (err) {
      console.error(logger.lines.slice(-40).join('\n'));
      throw err;
    }
    if (!demo.dashboardUrl) throw new Error('the demo serves no dashboard');
    url = demo.dashboardUrl;
    shadows = new IoTDataPlaneClient(localClientConfig(demo.cloud.endpoints));
    context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    context.setDefaultTimeout(10_000);
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(url);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    shadows?.destroy();
    try {
      await demo?.stop();
    } finally {
      await demo?.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);

  it('shows every zone of the building with live numeric values', async () => {
    for (const z of config.zones) {
      const sensed = new Set(z.devices.flatMap((d) => d.senses));
      const measures = ['temperature', 'co2', 'occupancy', 'light', 'humidity'].filter((m) =>
        sensed.has(m as never),
      );
      await vi.waitFor(
        async () => {
          for (const m of measures) {
            const text = await zone(z.id).locator(`[data-measure="${m}"]`).textContent();
            expect(Number(text || Number.NaN), `numeric ${m} in zone ${z.id}`).not.toBeNaN();
          }
        },
        { timeout: 30_000, interval: POLL_MS },
      );
      expect(await zone(z.id).locator('.zone-name').textContent()).toBe(z.name);
    }
    expect(await page.locator('.zone[data-zone]').count()).toBe(config.zones.length);
  });

  it('updates the values without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { loadedOnce: boolean }).loadedOnce = true;
    });
    const snapshot = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll('.zone [data-measure]'), (e) => e.textContent).join('|'),
      );
    const clock = await page.locator('#sim-clock').textContent();
    const values = await snapshot();
    await expect
      .poll(() => page.locator('#sim-clock').textContent(), {
        timeout: 15_000,
        interval: POLL_MS,
        message: 'the simulated clock to advance',
      })
      .not.toBe(clock);
    await expect
      .poll(snapshot, { timeout: 30_000, interval: POLL_MS, message: 'a reading to change' })
      .not.toBe(values);
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
  });

  it('draws the temperature and CO2 charts from the series API', async () => {
    const series = (await (await page.request.get(`${url}api/series?measure=temperature`)).json()) as {
      t: number[];
      values: Record<string, Array<number | null>>;
    };
    expect(series.t.length).toBeGreaterThan(0);
    expect(Object.keys(series.values).sort()).toEqual(config.zones.map((z) => z.id).sort());
    for (const id of ['chart-temperature', 'chart-co2']) {
      await vi.waitFor(
        async () => {
          const points = Number(await page.locator(`#${id}`).getAttribute('data-points'));
          expect(points, `${id} drawn with data`).toBeGreaterThan(0);
          expect(await page.locator(`#${id} canvas`).count(), `${id} canvas`).toBeGreaterThan(0);
        },
        { timeout: 30_000, interval: POLL_MS },
      );
      const legend = await page.locator(`#${id} .u-legend`).textContent();
      for (const z of config.zones) expect(legend).toContain(z.id);
    }
  });

  it('lists every device as connected', async () => {
    const things = config.zones.flatMap((z) => z.devices.map((d) => d.thing));
    await expect
      .poll(() => page.locator('#devices li[data-connected="true"]').count(), {
        timeout: 15_000,
        interval: POLL_MS,
        message: 'every device connected',
      })
      .toBe(things.length);
    for (const thing of things)
      expect(await page.locator(`#devices li[data-thing="${thing}"]`).getAttribute('data-connected')).toBe(
        'true',
      );
  });

  it('lets the Override button of every zone be clicked in a 1400 px wide window', async () => {
    const hidden: string[] = [];
    for (const z of config.zones) {
      try {
        await zone(z.id).locator('form.override button[type=submit]').click({ trial: true, timeout: 3000 });
      } catch {
        hidden.push(z.id);
      }
    }
    expect(hidden, 'zones whose Override button is covered').toEqual([]);
  });

  it('refuses a lighting override above 100 % with a message and leaves the shadow alone', async () => {
    await submitOverride('lobby', 'lighting', '150', 1);
    const message = await overrideMessage('lobby', 'refused');
    expect(message).toContain('100');
    const desired = await desiredOf('hq-lobby-lights');
    expect(desired.lighting).not.toBe(150);
    expect(desired.override?.lighting ?? undefined).toBeUndefined();
    expect(await chip('lobby', 'lighting').getAttribute('data-override')).toBe('');
  });

  it('refuses an unknown ventilation level with a message and leaves the shadow alone', async () => {
    await submitOverride('lobby', 'ventilation', 'turbo', 1);
    const message = await overrideMessage('lobby', 'refused');
    expect(message).toContain('high');
    const desired = await desiredOf('hq-lobby-hvac');
    expect(desired.ventilation as string).not.toBe('turbo');
    expect(desired.override?.ventilation ?? undefined).toBeUndefined();
    expect(await chip('lobby', 'ventilation').getAttribute('data-override')).toBe('');
  });

  it('applies an operator override: the actuator reports the value and the page shows the end', async () => {
    const before = await buildingNow();
    await submitOverride(OVERRIDE_ZONE, 'lighting', String(OVERRIDE_LIGHTING), OVERRIDE_MINUTES);
    expect(await overrideMessage(OVERRIDE_ZONE, 'lighting')).toContain(OVERRIDE_THING);
    const end = await vi.waitFor(
      async () => {
        const c = chip(OVERRIDE_ZONE, 'lighting');
        expect(await c.getAttribute('data-reported'), 'the lighting chip reports the override').toBe(
          String(OVERRIDE_LIGHTING),
        );
        const override = Number(await c.getAttribute('data-override'));
        expect(override, 'the override end on the lighting chip').toBeGreaterThan(0);
        return override;
      },
      { timeout: 20_000, interval: POLL_MS },
    );
    // The override ends on the building's clock, not the wall clock.
    expect(end).toBeGreaterThan(before);
    expect(end).toBeLessThanOrEqual((await buildingNow()) + OVERRIDE_MINUTES * 60_000);
    expect(await chip(OVERRIDE_ZONE, 'lighting').locator('.ov').count()).toBe(1);
    const desired = await desiredOf(OVERRIDE_THING);
    expect(desired.lighting).toBe(OVERRIDE_LIGHTING);
    expect(desired.override?.lighting).toBe(end);
  });

  it('ends the override at its expiry, and the zone controller clears it from the shadow', async () => {
    const end = Number(await chip(OVERRIDE_ZONE, 'lighting').getAttribute('data-override'));
    expect(end).toBeGreaterThan(0);
    // While it runs, the controller leaves the overridden actuator alone.
    expect((await desiredOf(OVERRIDE_THING)).lighting).toBe(OVERRIDE_LIGHTING);
    await expect
      .poll(() => chip(OVERRIDE_ZONE, 'lighting').getAttribute('data-override'), {
        timeout: 60_000,
        interval: POLL_MS,
        message: 'the override marker to disappear',
      })
      .toBe('');
    expect(await buildingNow()).toBeGreaterThanOrEqual(end);
    expect(await chip(OVERRIDE_ZONE, 'lighting').locator('.ov').count()).toBe(0);
    await expect
      .poll(async () => (await desiredOf(OVERRIDE_THING)).override?.lighting ?? null, {
        timeout: 30_000,
        interval: POLL_MS,
        message: 'the controller to clear desired.override.lighting',
      })
      .toBeNull();
  }, 90_000);

  it('shows no pending change on an actuator that has no desired value', async () => {
    // An actuator the controller never commanded has a reported state and no desired one: the
    // live state with that one field removed, on a second tab.
    const tab = await page.context().newPage();
    try {
      await tab.route('**/dashboard/api/state', async (route) => {
        const response = await route.fetch();
        const state = (await response.json()) as {
          zones: Array<{ actuators: Array<Record<string, unknown>> }>;
        };
        for (const a of state.zones[0]?.actuators ?? []) {
          a.reported ??= a.desired ?? 'off';
          delete a.desired;
        }
        await route.fulfill({ response, json: state });
      });
      await tab.goto(url);
      await tab.waitForSelector('body[data-ready=true]');
      const chips = await tab.locator('.zone').first().locator('.chip').allTextContents();
      expect(chips.length).toBeGreaterThan(0);
      expect(chips.filter((text) => text.includes('undefined'))).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  it('says every time on the building clock, in words: no epoch numbers, no jargon', async () => {
    await expect
      .poll(() => page.locator('#commands li[data-at]').count(), { timeout: 30_000, interval: POLL_MS })
      .toBeGreaterThan(0);
    const text = await page.locator('body').textContent();
    expect(text, 'raw epoch milliseconds').not.toMatch(/\b1\d{12}\b/);
    expect(text).not.toMatch(/in flight/i);
    // One render: the building's time and the commands' times, read together.
    const { now, clock, commands } = await page.evaluate(() => ({
      now: Number((document.querySelector('#sim-clock') as HTMLElement).dataset.now),
      clock: document.querySelector('#sim-clock')?.textContent ?? '',
      commands: Array.from(document.querySelectorAll('#commands li[data-at]'), (e) =>
        Number((e as HTMLElement).dataset.at),
      ),
    }));
    expect(clock).toMatch(/simulated building time \w{3} \d\d:\d\d \(UTC\)/);
    // Commands are dated on the building clock: never after the building's now, and recent.
    for (const at of commands) {
      expect(at).toBeLessThanOrEqual(now);
      expect(at).toBeGreaterThan(now - 48 * 3_600_000);
    }
    // A device's age is the time since its last reading, not since it connected.
    // A device's age is the time since it last sent something (readings, or an actuator's
    // report of what it applied), not since it connected.
    const sensors = new Set(
      config.zones.flatMap((z) => z.devices.filter((d) => d.senses.length > 0).map((d) => d.thing)),
    );
    for (const li of await page.locator('#devices li').all()) {
      const thing = (await li.getAttribute('data-thing')) ?? '';
      const text = (await li.textContent()) ?? '';
      const age = '(just now|\\d+ (s|min|h)( \\d+ min)? ago)';
      expect(text).toMatch(
        new RegExp(sensors.has(thing) ? `last reading ${age}` : `last report ${age}|nothing sent yet`),
      );
    }
    const legend = await page.locator('#chart-temperature .u-legend').textContent();
    expect(legend, 'no empty values in the legend').not.toContain('--');
    // Comfort beside the fixed schedule's, and the hours it rests on.
    for (const z of config.zones)
      expect(await page.locator('#figures').textContent()).toContain(`Comfortable: ${z.id}`);
    await expect
      .poll(() => page.locator('#figures').textContent(), {
        timeout: 60_000,
        interval: POLL_MS,
        message: 'an occupied zone to show its comfort beside the fixed schedule',
      })
      .toMatch(/fixed schedule \d+ % · over \d+\.\d occupied h/);
  });

  it('lists the newest rejected readings first, and says how many of how many', async () => {
    await expect
      .poll(async () => Number(await page.locator('#dlq-count').textContent()), {
        timeout: 60_000,
        interval: POLL_MS,
        message: 'a glitched reading in the dead-letter queue',
      })
      .toBeGreaterThan(0);
    // One render: the badge, the note and the list, read together.
    const { count, note, times } = await page.evaluate(() => ({
      count: Number(document.querySelector('#dlq-count')?.textContent),
      note: document.querySelector('#dlq-note')?.textContent ?? '',
      times: Array.from(document.querySelectorAll('#dead-letters li'), (e) =>
        Number((e as HTMLElement).dataset.at),
      ),
    }));
    expect(times.length, `the list beside the badge (${count})`).toBe(Math.min(count, 10));
    expect(note).toBe(count > 10 ? `newest 10 of ${count}` : `all ${count}, newest first`);
    expect(
      times.every((t) => Number.isFinite(t) && t > 0),
      'dated on the building clock',
    ).toBe(true);
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  for (const width of [1920, 1400, 900, 420]) {
    it(`lays out at ${width} px: nothing overlaps or runs off the page, charts fill their panels`, async () => {
      await page.setViewportSize({ width, height: 1000 });
      await expect
        .poll(
          () =>
            page.evaluate(() =>
              Array.from(document.querySelectorAll('.chart')).every((el) => {
                const plot = el.querySelector('.uplot') as HTMLElement | null;
                return plot !== null && Math.abs(plot.offsetWidth - el.clientWidth) <= 2;
              }),
            ),
          { timeout: 10_000, interval: POLL_MS, message: 'the charts to follow the new width' },
        )
        .toBe(true);
      const layout = await page.evaluate(() => {
        const box = (e: Element) => {
          const r = e.getBoundingClientRect();
          return { x: r.left, y: r.top + window.scrollY, w: r.width, h: r.height, name: e.id || e.className };
        };
        const blocks = Array.from(
          document.querySelectorAll(
            'header > .brand, header > .status, .figure, .zone, .charts > .panel, .side > .panel',
          ),
        ).map(box);
        const overlaps: string[] = [];
        for (let i = 0; i < blocks.length; i++) {
          for (let j = i + 1; j < blocks.length; j++) {
            const a = blocks[i]!;
            const b = blocks[j]!;
            const dx = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
            const dy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
            if (dx > 1 && dy > 1) overlaps.push(`${a.name} / ${b.name}`);
          }
        }
        const zones = Array.from(document.querySelectorAll('.zone')).map(
          (z) => z.getBoundingClientRect().bottom,
        );
        const chartsTop = document.querySelector('.charts')!.getBoundingClientRect().top;
        // A hint is cut off when its text is wider than the box it is shown in.
        const measure = document.createElement('canvas').getContext('2d')!;
        const cut = Array.from(document.querySelectorAll('.override input[name=value]')).filter((e) => {
          const input = e as HTMLInputElement;
          const style = getComputedStyle(input);
          measure.font = style.font;
          const room =
            input.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
          return measure.measureText(input.placeholder).width > room;
        }).length;
        return {
          overlaps,
          pageWidth: document.documentElement.scrollWidth,
          bandUnderZones: chartsTop - Math.max(...zones),
          cut,
        };
      });
      expect(layout.overlaps, 'boxes that overlap').toEqual([]);
      expect(layout.pageWidth, 'no horizontal scrolling').toBeLessThanOrEqual(width);
      await expectChartsFit();
      expect(layout.bandUnderZones, 'no empty band between the zones and the charts').toBeLessThan(30);
      expect(layout.cut, 'override hints cut off').toBe(0);
      await page.screenshot({ path: join(root, `dashboard-${width}.png`), fullPage: true });
      if (process.env.ZONECTL_UPDATE_SCREENSHOT === '1')
        copyFileSync(join(root, `dashboard-${width}.png`), join(root, '..', `dashboard-${width}.png`));
    });
  }

  it('groups 48 zones by floor and stays usable: one section per floor, nothing overlaps', async () => {
    // A tower's worth of zones (examples/tower.json has 48 on 12 floors): the live state with
    // each zone repeated on 12 floors, on a second tab.
    const tab = await page.context().newPage();
    try {
      await tab.setViewportSize({ width: 1400, height: 1000 });
      await tab.route('**/dashboard/api/state', async (route) => {
        const response = await route.fetch();
        const state = (await response.json()) as { zones: Array<Record<string, unknown>> };
        const base = state.zones;
        state.zones = Array.from({ length: 48 }, (_, i) => ({
          ...base[i % base.length],
          id: `z${i}`,
          name: `Zone ${i}`,
          floor: String(Math.floor(i / 4) + 1),
        }));
        await route.fulfill({ response, json: state });
      });
      await tab.goto(url);
      await tab.waitForSelector('body[data-ready=true]');
      expect(await tab.locator('.floor').count()).toBe(12);
      expect(await tab.locator('.floor').first().locator('.zone').count()).toBe(4);
      expect(await tab.locator('.floor-name').first().textContent()).toBe('Floor 1');
      const layout = await tab.evaluate(() => {
        const boxes = Array.from(document.querySelectorAll('.zone'), (e) => e.getBoundingClientRect());
        let overlaps = 0;
        for (let i = 0; i < boxes.length; i++)
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i]!;
            const b = boxes[j]!;
            if (
              Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 &&
              Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1
            )
              overlaps++;
          }
        return { overlaps, pageWidth: document.documentElement.scrollWidth };
      });
      expect(layout.overlaps, 'zone cards that overlap').toBe(0);
      expect(layout.pageWidth, 'no horizontal scrolling').toBeLessThanOrEqual(1400);
    } finally {
      await tab.close();
    }
  });

  it('takes a screenshot of the page', async () => {
    // Back from a phone's width: the charts grow back to fill their panels.
    await page.setViewportSize({ width: 1400, height: 1000 });
    await vi.waitFor(expectChartsFit, { timeout: 10_000, interval: POLL_MS });
    const updating = process.env.ZONECTL_UPDATE_SCREENSHOT === '1';
    if (updating) {
      // For the README: the building at work, with an operator override running.
      await vi.waitFor(
        async () => {
          const occupied = await page.locator('.zone .occupied').allTextContents();
          const cold = await page.locator('.zone [data-measure="temperature"].warn').count();
          expect(
            occupied.every((t) => t.startsWith('open')) && cold === 0,
            'working hours, every zone warm',
          ).toBe(true);
        },
        { timeout: 130_000, interval: POLL_MS },
      );
      await submitOverride(OVERRIDE_ZONE, 'lighting', '100', 5);
      await expect
        .poll(() => chip(OVERRIDE_ZONE, 'lighting').getAttribute('data-reported'), {
          timeout: 20_000,
          interval: POLL_MS,
          message: 'the override to show',
        })
        .toBe('100');
    }
    const file = join(root, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    if (updating) copyFileSync(file, join(REPO_ROOT, 'docs', 'dashboard.png'));
  }, 180_000);
});
