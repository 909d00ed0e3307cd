/**
 * What a process tree costs, read from Linux's /proc (proc(5)): resident memory and CPU time of
 * a process and all its descendants (the local cloud and its Lambda workers; a peer emulator and
 * whatever it spawned). Other platforms report nothing: the figures are left out, not guessed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export const procAvailable = (): boolean => existsSync('/proc/self/stat');

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** user + system CPU time, its own and that of its exited (waited-for) children, clock ticks */
  readonly ticks: number;
  /** resident pages */
  readonly rssPages: number;
}

/** Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux Node runs on. */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

function statOf(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (field: number) => Number(rest[field - 3]);
  return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17), rssPages: num(24) };
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = statOf(Number(entry));
    if (s) out.push(s);
  }
  return out;
}

/** The process and its live descendants. */
export function processTree(root: number): ProcStat[] {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const top = stats.find((s) => s.pid === root);
  if (!top) return [];
  const out: ProcStat[] = [];
  const visit = (s: ProcStat) => {
    out.push(s);
    for (const c of children.get(s.pid) ?? []) visit(c);
  };
  visit(top);
  return out;
}

export interface TreeUsage {
  /** Resident memory of the whole tree, bytes. */
  readonly rssBytes: number;
  /** CPU time of the tree, seconds: its live processes and the children they have reaped. */
  readonly cpuSeconds: number;
  readonly processes: number;
}

export function treeUsage(root: number): TreeUsage {
  const tree = processTree(root);
  return {
    rssBytes: tree.reduce((n, s) => n + s.rssPages * PAGE_BYTES, 0),
    cpuSeconds: tree.reduce((n, s) => n + s.ticks, 0) / TICKS_PER_SECOND,
    processes: tree.length,
  };
}

/** CPU seconds a tree spends while `work` runs (the tree's processes must outlive it). */
export async function cpuDuring<T>(
  root: number,
  work: () => Promise<T>,
): Promise<{ value: T; cpuSeconds: number }> {
  const before = treeUsage(root).cpuSeconds;
  const value = await work();
  return { value, cpuSeconds: treeUsage(root).cpuSeconds - before };
}

/** The 1-minute load average and the CPUs, to say how busy the machine was. */
export function machineLoad(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`;
}

/** The AWS_LAMBDA_FUNCTION_NAME a local Lambda instance runs with, if the process is one. */
function functionNameOf(pid: number): string | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const entry = environ.find((e) => e.startsWith('AWS_LAMBDA_FUNCTION_NAME='));
    return entry?.slice('AWS_LAMBDA_FUNCTION_NAME='.length);
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of the tree split by what runs: each local Lambda function's instances under its
 * name (from their environment), everything else (the cloud's own process) under ''.
 */
export function cpuByFunction(root: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of processTree(root)) {
    const name = s.pid === root ? '' : (functionNameOf(s.pid) ?? '');
    out.set(name, (out.get(name) ?? 0) + s.ticks / TICKS_PER_SECOND);
  }
  return out;
}

/** `after - before` per key. */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) out.set(k, v - (before.get(k) ?? 0));
  return out;
}
