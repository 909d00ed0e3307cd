/**
 * The errors of the contracts whose messages are written for people: a bad building config, a
 * missing or stale endpoints.json. Kept apart from the schemas that throw them (which need zod)
 * so the command line can name them without loading those.
 */

export class BuildingConfigError extends Error {
  override readonly name = 'BuildingConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid building config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Fix the fields above and run the command again.',
    );
  }
}

/** endpoints.json is missing, unreadable or not what `zonectl local up` writes; the message says what to do. */
export class LocalEndpointsError extends Error {
  override readonly name = 'LocalEndpointsError';
}
