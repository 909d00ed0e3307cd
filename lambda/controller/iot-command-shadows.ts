import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  GetThingShadowCommand,
  type IoTDataPlaneClient,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { COMMAND_SHADOW_NAME, type DesiredCommandState } from '../../contracts';
import {
  type CommandShadowSnapshot,
  type CommandShadows,
  ShadowVersionConflictError,
} from './command-shadow';

/**
 * CommandShadows adapter over the AWS IoT Device Shadow HTTP API (iot-data plane):
 * GetThingShadow / UpdateThingShadow on the named shadow COMMAND_SHADOW_NAME.
 * - 404 ResourceNotFoundException on get means no shadow yet: an empty snapshot.
 * - Updates carry a clientToken and, when known, the version read, so a change written in
 *   between (an operator's override) is not overwritten blindly: 409 -> ShadowVersionConflictError.
 */
export class IotCommandShadows implements CommandShadows {
  constructor(
    private readonly client: IoTDataPlaneClient,
    private readonly newToken: () => string = () => `zonectl-controller-${randomUUID()}`,
  ) {}

  async get(thing: string): Promise<CommandShadowSnapshot> {
    let payload: Uint8Array | undefined;
    try {
      ({ payload } = await this.client.send(
        new GetThingShadowCommand({ thingName: thing, shadowName: COMMAND_SHADOW_NAME }),
      ));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return {};
      throw error;
    }
    if (!payload || payload.length === 0) return {};
    return snapshotOf(JSON.parse(new TextDecoder().decode(payload)));
  }

  async update(thing: string, desired: DesiredCommandState, expectedVersion?: number): Promise<void> {
    const document: Record<string, unknown> = { state: { desired }, clientToken: this.newToken() };
    if (expectedVersion !== undefined) document.version = expectedVersion;
    try {
      await this.client.send(
        new UpdateThingShadowCommand({
          thingName: thing,
          shadowName: COMMAND_SHADOW_NAME,
          payload: new TextEncoder().encode(JSON.stringify(document)),
        }),
      );
    } catch (error) {
      if (error instanceof ConflictException) throw new ShadowVersionConflictError(thing, { cause: error });
      throw error;
    }
  }
}

/** Reads the parts the controller uses from a GetThingShadow document. */
export function snapshotOf(document: unknown): CommandShadowSnapshot {
  const doc = asObject(document);
  const state = asObject(doc?.state);
  const overrideMeta = asObject(asObject(asObject(asObject(doc?.metadata)?.desired)?.override));
  const overrideSetAt: Record<string, number> = {};
  for (const [kind, meta] of Object.entries(overrideMeta ?? {})) {
    const seconds = asObject(meta)?.timestamp;
    if (typeof seconds === 'number') overrideSetAt[kind] = seconds * 1000;
  }
  return {
    desired: asObject(state?.desired),
    reported: asObject(state?.reported),
    overrideSetAt,
    version: typeof doc?.version === 'number' ? doc.version : undefined,
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
