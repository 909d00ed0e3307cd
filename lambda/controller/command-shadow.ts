import type { DesiredCommandState } from '../../contracts';

/** The command shadow of one actuator thing as the controller sees it. */
export interface CommandShadowSnapshot {
  /** `state.desired`, or undefined when the shadow or the section does not exist. */
  readonly desired?: Record<string, unknown>;
  readonly reported?: Record<string, unknown>;
  /** When each `desired.override.<kind>` was last written, epoch ms (from the shadow metadata). */
  readonly overrideSetAt?: Record<string, number>;
  /** Shadow document version; undefined when there is no shadow yet. */
  readonly version?: number;
}

/** The port to the command shadows (COMMAND_SHADOW_NAME) of actuator things. */
export interface CommandShadows {
  /** The current document; an empty snapshot when the shadow does not exist. */
  get(thing: string): Promise<CommandShadowSnapshot>;
  /**
   * Merges `desired` into the shadow's desired state.
   * @throws ShadowVersionConflictError when `expectedVersion` is given and no longer current.
   */
  update(thing: string, desired: DesiredCommandState, expectedVersion?: number): Promise<void>;
}

export class ShadowVersionConflictError extends Error {
  override readonly name = 'ShadowVersionConflictError';
  constructor(
    readonly thing: string,
    options?: ErrorOptions,
  ) {
    super(`the command shadow of ${thing} changed while the controller was deciding`, options);
  }
}
