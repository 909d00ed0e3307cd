/**
 * The performance goals and how a run meets them. Comparison goals are ratios to a peer
 * emulator: the peer measured in the same run when `--peer-endpoint` is given, otherwise the
 * reference figures below (MiniStack, measured side by side with zonectl on the project's 2-core
 * development machine: same clients, 5 alternating rounds, medians), which are only a rough
 * guide on another machine or under another load.
 */
import type { Figures } from './compare';
import type { Metric } from './report';

/** MiniStack's reference figures (see bench/README.md, "The peer"). */
export const REFERENCE_PEER: Required<
  Pick<Figures, 'startMs' | 'idleMiB' | 'qos1' | 'connects' | 'updateP99'>
> & {
  readonly name: string;
} = {
  name: 'MiniStack (reference figures)',
  startMs: 1340,
  idleMiB: 48,
  qos1: 8223,
  connects: 176,
  updateP99: 6.9,
};

export interface GoalInput {
  readonly ours: Figures;
  readonly peer: Figures & { readonly name: string };
  /** `zonectl --help`, ms. */
  readonly helpMs?: number;
  /** pipeline messages/s (sustained, 10% to 90% of the readings stored) over raw broker messages/s, same run. */
  readonly pipelineRatio?: number;
  readonly pipelineLost?: number;
  readonly loopP99Ms?: number;
  readonly loopTrials?: number;
  readonly largestBundleBytes?: number;
}

interface Goal {
  readonly goal: string;
  readonly value?: number;
  readonly unit: string;
  readonly target: string;
  readonly met?: boolean;
}

const ratio = (a?: number, b?: number) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

export function goals(g: GoalInput): Goal[] {
  const { ours, peer } = g;
  const startRatio = ratio(ours.startMs, peer.startMs);
  const memRatio = ratio(ours.idleMiB, peer.idleMiB);
  const qosRatio = ratio(ours.qos1, peer.qos1);
  const connRatio = ratio(ours.connects, peer.connects);
  const shadowRatio = ratio(Math.max(ours.updateP99 ?? 0, ours.getP99 ?? 0) || undefined, peer.updateP99);
  const out: Goal[] = [
    {
      goal: `start to first API answer / ${peer.name}`,
      value: startRatio,
      unit: 'x',
      target: '<= 0.5',
      met: startRatio === undefined ? undefined : startRatio <= 0.5,
    },
    {
      goal: '`zonectl --help`',
      value: g.helpMs,
      unit: 'ms',
      target: '< 300',
      met: g.helpMs === undefined ? undefined : g.helpMs < 300,
    },
    {
      goal: `idle memory / ${peer.name}`,
      value: memRatio,
      unit: 'x',
      target: '<= 1',
      met: memRatio === undefined ? undefined : memRatio <= 1,
    },
    {
      goal: `QoS 1 mTLS throughput, policies enforced / ${peer.name}`,
      value: qosRatio,
      unit: 'x',
      target: '>= 1.5',
      met: qosRatio === undefined ? undefined : qosRatio >= 1.5,
    },
    {
      goal: `connects/s / ${peer.name}`,
      value: connRatio,
      unit: 'x',
      target: '>= 1',
      met: connRatio === undefined ? undefined : connRatio >= 1,
    },
    {
      goal: `shadow update/get p99 / ${peer.name} update p99`,
      value: shadowRatio,
      unit: 'x',
      target: '<= 1',
      met: shadowRatio === undefined ? undefined : shadowRatio <= 1,
    },
    {
      goal: 'pipeline (sustained) / raw broker messages/s, same run, none lost',
      value: g.pipelineRatio,
      unit: 'x',
      target: '>= 0.5, 0 lost',
      met: g.pipelineRatio === undefined ? undefined : g.pipelineRatio >= 0.5 && (g.pipelineLost ?? 0) === 0,
    },
    {
      goal: `closed loop p99 over ${g.loopTrials ?? '?'} trials`,
      value: g.loopP99Ms,
      unit: 'ms',
      target: '< 50, >= 50 trials',
      met: g.loopP99Ms === undefined ? undefined : g.loopP99Ms < 50 && (g.loopTrials ?? 0) >= 50,
    },
    {
      goal: 'largest Lambda bundle',
      value: g.largestBundleBytes === undefined ? undefined : g.largestBundleBytes / 1000,
      unit: 'KB',
      target: '<= 300',
      met: g.largestBundleBytes === undefined ? undefined : g.largestBundleBytes <= 300_000,
    },
  ];
  return out;
}

export function goalMetrics(list: readonly Goal[]): Metric[] {
  return list
    .filter((g) => g.value !== undefined)
    .map((g, i) => ({
      id: `goal.${i}`,
      metric: `goal: ${g.goal}`,
      value: g.value!,
      unit: g.unit,
      note: `target ${g.target}: ${g.met ? 'met' : 'NOT met'}`,
    }));
}
