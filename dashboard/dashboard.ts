import { type BuildingConfig, localClientConfig } from '../contracts';
import type { MessageBus } from '../local/broker/types';
import type { ServiceRoute } from '../local/gateway/types';
import type { DeadLetterScanner } from './dead-letter-scan';
import { watchLiveEvents } from './live-events';
import { planOverride } from './override';
import { pipelineReads } from './pipeline-reads';
import { dashboardRoute } from './route';
import { type DashboardFigures, dashboardState, type ViewSources, zoneSeries } from './view';

/**
 * The dashboard, mounted on the local cloud's gateway under /dashboard/. It reads everything it
 * shows through the AWS APIs of the pipeline, exactly as it would against AWS
 * (pipeline-reads.ts): readings and charts from Timestream queries, actuator state from the
 * command shadows, the dead-letter queue through SQS. Device presence and commands come from
 * the message bus (live-events.ts). Energy and comfort figures come from the simulation when
 * one runs. view.ts shapes the answers, override.ts checks operator overrides, route.ts and
 * static-files.ts serve HTTP.
 */

export type { DashboardFigures };

export interface DashboardOptions {
  readonly config: BuildingConfig;
  readonly apiEndpoint: string;
  readonly region: string;
  readonly bus: MessageBus;
  readonly timestream: { database: string; table: string };
  readonly deadLetterQueueUrl?: string;
  /** The dead-letter queue's scanner when another reader shares the queue (the demo's books). */
  readonly deadLetters?: DeadLetterScanner;
  /** Time the readings are taken at: the simulated clock in the demo, else the wall clock. */
  readonly clock?: () => number;
  readonly figures?: () => DashboardFigures;
  /** Hours of history the charts show. @default 24 */
  readonly chartHours?: number;
}

export interface Dashboard {
  readonly route: ServiceRoute;
  close(): Promise<void>;
}

export async function createDashboard(options: DashboardOptions): Promise<Dashboard> {
  const reads = pipelineReads(localClientConfig(options), options.deadLetterQueueUrl, options.deadLetters);
  const live = watchLiveEvents(options.bus, options.config.buildingId, options.clock ?? Date.now);
  const sources: ViewSources = {
    config: options.config,
    reads,
    live,
    database: options.timestream.database,
    table: options.timestream.table,
    clock: options.clock ?? Date.now,
    simulated: options.clock !== undefined,
    figures: options.figures,
    chartHours: options.chartHours ?? 24,
  };
  const route = dashboardRoute({
    state: () => dashboardState(sources),
    series: (measure) => zoneSeries(sources, measure),
    async override(body) {
      // The override ends on the building's clock: simulated time in the demo.
      const plan = planOverride(options.config, body, sources.clock());
      for (const thing of plan.things) {
        const desired = { [plan.kind]: plan.value, override: { [plan.kind]: plan.until } };
        await reads.updateDesired(thing, desired, `operator-${plan.until}`);
      }
      return { until: plan.until, things: plan.things };
    },
  });
  return {
    route,
    async close() {
      live.close();
      reads.close();
    },
  };
}
