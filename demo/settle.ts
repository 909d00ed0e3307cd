import { telemetryTopicFilter } from '../contracts';
import type { LocalCloud } from '../local/cloud';
import type { LocalLogger } from '../local/common/log';
import type { CountedAgent } from './books';
import type { CommandBook } from './commands';

/**
 * Waits until the pipeline has settled after a device published: nothing that message set off
 * is still on its way. The demo steps simulated time only then, so what the zone controller
 * decides, and when in simulated time the devices apply it, does not depend on how fast this
 * machine is (see demo/demo.ts). Settled means, all at once:
 *
 *  1. the message bus has carried every telemetry message the devices say they published (a
 *     PUBACK can reach the device before the broker hands the message on), no device's
 *     telemetry awaits its PUBACK and no device is applying a desired change;
 *  2. the rules engine has finished every action (the control rule's event sent to the control
 *     queue, the ingest rule's message sent);
 *  3. the control queue is empty, nothing of it in flight (the zone controller has taken and
 *     finished every control event), and no asynchronous Lambda invocation is queued or running;
 *  4. every actuator device has applied the latest desired value of each actuator it drives
 *     (or refused it), which means the shadow delta reached it;
 *  5. and nothing new appeared on the message bus meanwhile (otherwise it starts over).
 *
 * The ingest path (its queue waits up to its batching window) is not waited for: stored
 * readings feed the books and the dashboard, never a control decision. A settle that takes
 * longer than `timeoutMs` of wall-clock time (a controller failing into its retries, a device
 * that went offline) gives up, logs what it waited for and is counted, so the demo goes on and
 * says the run may not repeat exactly.
 */

export interface SettlerOptions {
  readonly cloud: Pick<LocalCloud, 'broker' | 'rules' | 'lambda' | 'sqs'>;
  /** The simulated building, whose telemetry the devices publish. */
  readonly buildingId: string;
  /** The building's control queue (the zone controller's event source). */
  readonly controlQueueUrl?: string;
  readonly agents: () => readonly CountedAgent[];
  readonly commands: CommandBook;
  readonly logger: LocalLogger;
  /** @default 30_000 */
  readonly timeoutMs?: number;
}

export interface Settler {
  /**
   * Resolves when settled (true) or when it gave up (false). `published` is how many telemetry
   * messages the devices had acknowledged since the last settle: they must reach the bus first.
   */
  settle(published?: number): Promise<boolean>;
  /** How many settles gave up. */
  readonly timeouts: number;
  /** What the settle under way waits for, if one is under way (for a stopping demo's progress). */
  waitingFor(): string | undefined;
  /**
   * Ends every settle, the one under way included, by `deadline` (epoch ms) at the latest: a
   * stopping demo gives the pipeline a budget, not a timeout per step.
   */
  hurry(deadline: number): void;
  close(): void;
}

const POLL_MS = 2;
const turn = (ms: number) => new Promise<void>((r) => (ms === 0 ? setImmediate(r) : setTimeout(r, ms)));

/**
 * Waits for `work`, but not past `deadline` (epoch ms); work that goes on is left to finish.
 * True when the work ended (failed included) in time.
 */
export async function waitUntil(work: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    work.then(
      () => true,
      () => true,
    ),
    new Promise<false>((r) => {
      timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  return ended;
}

export function createSettler(o: SettlerOptions): Settler {
  const timeoutMs = o.timeoutMs ?? 30_000;
  let busMessages = 0;
  let telemetrySeen = 0;
  let telemetryExpected = 0;
  let timeouts = 0;
  let cap = Number.POSITIVE_INFINITY;
  let waiting: string | undefined;
  const count = () => {
    busMessages++;
  };
  const unsubscribe = [
    o.cloud.broker.subscribe('#', count),
    o.cloud.broker.subscribe('$aws/#', count),
    o.cloud.broker.subscribe(telemetryTopicFilter(o.buildingId), () => {
      telemetrySeen++;
    }),
  ];

  /** What an actuator device has not applied yet, or undefined when it is up to date. */
  const lagging = (): string | undefined => {
    for (const a of o.agents()) {
      const { actuators, rejected } = a.agent.stats();
      const desired = o.commands.desired(a.thing);
      for (const kind of a.agent.bundle.drives) {
        const want = desired[kind];
        if (want === undefined || rejected[kind] !== undefined) continue;
        if (actuators[kind] !== want) return `${a.thing} ${kind}=${String(want)}`;
      }
    }
    return undefined;
  };

  /** Whether a control event waits in the control queue or is being handled. */
  const controlPending = (): boolean => {
    if (!o.controlQueueUrl) return false;
    const c = o.cloud.sqs.counts(o.controlQueueUrl);
    return c.visible + c.inFlight + c.delayed > 0;
  };

  const devicesIdle = () => Promise.all(o.agents().map((a) => a.agent.idle()));

  return {
    async settle(published = 0) {
      const until = Date.now() + timeoutMs;
      const deadline = () => Math.min(until, cap);
      const late = () => Date.now() >= deadline();
      telemetryExpected += published;
      waiting = 'the broker to pass on the telemetry';
      try {
        while (telemetrySeen < telemetryExpected && !late()) await turn(POLL_MS);
        for (;;) {
          // One turn of the event loop first, so messages already on their way arrive.
          await turn(0);
          waiting = 'the devices';
          const seen = busMessages;
          let done = await waitUntil(devicesIdle(), deadline());
          if (done) waiting = 'the rules engine';
          done = done && (await waitUntil(o.cloud.rules.drain(), deadline()));
          if (done) waiting = 'the zone controller';
          while (controlPending() && !late()) await turn(POLL_MS);
          done = done && (await waitUntil(o.cloud.lambda.drainAsync(), deadline()));
          let behind = lagging();
          while (behind !== undefined && !late()) {
            waiting = `a device to apply ${behind}`;
            await turn(POLL_MS);
            behind = lagging();
          }
          done = done && (await waitUntil(devicesIdle(), deadline()));
          await turn(0);
          if (
            done &&
            behind === undefined &&
            busMessages === seen &&
            telemetrySeen >= telemetryExpected &&
            !controlPending()
          ) {
            return true;
          }
          if (late()) {
            timeouts++;
            o.logger.warn(
              Date.now() >= until
                ? `the pipeline did not settle within ${timeoutMs / 1000} s (waiting for ${waiting}); going on`
                : `stopping: gave up waiting for ${waiting}`,
            );
            return false;
          }
        }
      } finally {
        waiting = undefined;
      }
    },
    waitingFor: () => waiting,
    hurry(deadline) {
      cap = Math.min(cap, deadline);
    },
    get timeouts() {
      return timeouts;
    },
    close() {
      for (const u of unsubscribe) u();
    },
  };
}
