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
  close(): void;
}

const POLL_MS = 2;
const turn = (ms: number) => new Promise<void>((r) => (ms === 0 ? setImmediate(r) : setTimeout(r, ms)));

export function createSettler(o: SettlerOptions): Settler {
  const timeoutMs = o.timeoutMs ?? 30_000;
  let busMessages = 0;
  let telemetrySeen = 0;
  let telemetryExpected = 0;
  let timeouts = 0;
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
      const deadline = Date.now() + timeoutMs;
      telemetryExpected += published;
      let waitingFor = 'the broker to pass on the telemetry';
      while (telemetrySeen < telemetryExpected && Date.now() < deadline) await turn(POLL_MS);
      for (;;) {
        // One turn of the event loop first, so messages already on their way arrive.
        await turn(0);
        waitingFor = 'the devices';
        const seen = busMessages;
        await devicesIdle();
        waitingFor = 'the rules engine';
        await o.cloud.rules.drain();
        waitingFor = 'the zone controller';
        while (controlPending() && Date.now() < deadline) await turn(POLL_MS);
        await Promise.race([
          o.cloud.lambda.drainAsync(),
          new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
        ]);
        let behind = lagging();
        while (behind !== undefined && Date.now() < deadline) {
          waitingFor = `a device to apply ${behind}`;
          await turn(POLL_MS);
          behind = lagging();
        }
        await devicesIdle();
        await turn(0);
        if (
          behind === undefined &&
          busMessages === seen &&
          telemetrySeen >= telemetryExpected &&
          !controlPending()
        ) {
          return true;
        }
        if (Date.now() >= deadline) {
          timeouts++;
          o.logger.warn(
            `the pipeline did not settle within ${timeoutMs / 1000} s (waiting for ${waitingFor}); going on`,
          );
          return false;
        }
      }
    },
    get timeouts() {
      return timeouts;
    },
    close() {
      for (const u of unsubscribe) u();
    },
  };
}
