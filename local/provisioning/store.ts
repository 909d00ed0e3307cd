/**
 * The provisioning service's durable state, in its own file (`<stateDir>/provisioning/
 * state.json`, a StateFile: temp file, fsync, rename, the previous version kept as
 * `state.json.last-good`): provisioning templates with their versions, and the certificate
 * ownership tokens handed out and not yet expired.
 *
 * A damaged file (not JSON, `null`, empty, the wrong shape) is replaced by its last-good copy at
 * start, and the log says so (the last change is lost: a template change, or a token handed out
 * then, which its device asks for again); without a usable copy the cloud refuses to start,
 * naming the file.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { type LocalLogger, StateFile } from '../common';
import type { OwnershipToken, ProvisioningTemplateRecord } from './types';

interface State {
  templates: Record<string, ProvisioningTemplateRecord>;
  tokens: Record<string, OwnershipToken>;
}

const TemplateSchema = z.looseObject({
  templateName: z.string().min(1),
  templateArn: z.string().min(1),
  enabled: z.boolean(),
  provisioningRoleArn: z.string(),
  type: z.string(),
  defaultVersionId: z.number(),
  versions: z.array(z.looseObject({})),
  creationDate: z.number(),
  lastModifiedDate: z.number(),
});

const TokenSchema = z.looseObject({
  certificateId: z.string().min(1),
  expiresAt: z.number(),
  registeredThing: z.string().optional(),
});

const StateSchema = z.object({
  templates: z.record(z.string(), TemplateSchema),
  tokens: z.record(z.string(), TokenSchema),
});

export class ProvisioningStore {
  private constructor(private readonly file: StateFile<State>) {}

  static open(stateDir: string, logger: LocalLogger): ProvisioningStore {
    return new ProvisioningStore(
      StateFile.open<State>({
        path: join(stateDir, 'provisioning', 'state.json'),
        schema: StateSchema as unknown as z.ZodType<State>,
        initial: () => ({ templates: {}, tokens: {} }),
        what: 'the provisioning templates and ownership tokens',
        logger,
        whenUnusable: 'refuse',
      }),
    );
  }

  get templates(): Record<string, ProvisioningTemplateRecord> {
    return this.file.value.templates;
  }

  get tokens(): Record<string, OwnershipToken> {
    return this.file.value.tokens;
  }

  update(change: (state: State) => void): void {
    this.file.update(change);
  }
}
