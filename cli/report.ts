import type { DeployResult } from '../local/deployer/deployer';

/** The deployment report as a table for people: each resource, its status, and why for those not emulated. */
export function formatDeployReport(result: DeployResult): string {
  const rows = result.report.map((l) => [l.status, l.type, `${l.stackName}/${l.logicalId}`, l.note ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length), 6));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd(),
  );
  const counts = new Map<string, number>();
  for (const l of result.report) counts.set(l.status, (counts.get(l.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  return `${lines.join('\n')}\n\n${result.report.length} resources: ${summary}`;
}
