/**
 * Provisioning templates and their versions (AWS IoT API Reference: CreateProvisioningTemplate,
 * DescribeProvisioningTemplate, ListProvisioningTemplates, UpdateProvisioningTemplate,
 * DeleteProvisioningTemplate, CreateProvisioningTemplateVersion,
 * ListProvisioningTemplateVersions, DescribeProvisioningTemplateVersion,
 * DeleteProvisioningTemplateVersion): names of 1-36 characters of [0-9A-Za-z_-], bodies of at
 * most 10,240 characters checked by the engine, a pre-provisioning hook only on a
 * FLEET_PROVISIONING template with payload version 2020-04-01, at most 5 versions, the default
 * version never deleted.
 *
 * LIMITATIONS versus AWS: `enabled` defaults to false when omitted (AWS does not document the
 * default; a third-party report says so); tags are stored, not served by ListTagsForResource.
 */
import { arn, type CloudIdentity } from '../common';
import { checkTemplateBody, TemplateError } from './engine';
import {
  deleteConflict,
  invalidRequest,
  resourceAlreadyExists,
  resourceNotFound,
  versionsLimitExceeded,
} from './errors';
import type { ProvisioningStore } from './store';
import type {
  ProvisioningHookConfig,
  ProvisioningTemplateRecord,
  ProvisioningTemplates,
  TemplateVersion,
  UpdateTemplateInput,
} from './types';

const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
const MAX_BODY = 10_240;
const MAX_VERSIONS = 5;
const PAYLOAD_VERSION = '2020-04-01';

function checkBody(text: unknown): string {
  if (typeof text !== 'string' || text === '') throw invalidRequest('templateBody is required');
  if (text.length > MAX_BODY) {
    throw invalidRequest(`templateBody has ${text.length} characters; the limit is ${MAX_BODY}`);
  }
  try {
    checkTemplateBody(text);
  } catch (error) {
    if (error instanceof TemplateError) throw invalidRequest(error.message);
    throw error;
  }
  return text;
}

function checkHook(hook: ProvisioningHookConfig | undefined, type: string): void {
  if (!hook) return;
  if (type !== 'FLEET_PROVISIONING') {
    throw invalidRequest('A pre-provisioning hook is supported only on FLEET_PROVISIONING templates');
  }
  if (
    typeof hook.targetArn !== 'string' ||
    !/^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:.+/.test(hook.targetArn)
  ) {
    throw invalidRequest(
      `preProvisioningHook.targetArn ${JSON.stringify(hook.targetArn)} is not a Lambda function ARN`,
    );
  }
  if ((hook.payloadVersion ?? PAYLOAD_VERSION) !== PAYLOAD_VERSION) {
    throw invalidRequest(`preProvisioningHook.payloadVersion must be ${PAYLOAD_VERSION}`);
  }
}

function checkRole(roleArn: unknown): string {
  if (typeof roleArn !== 'string' || roleArn.length < 20 || roleArn.length > 2048) {
    throw invalidRequest(
      'provisioningRoleArn is required: the ARN of the role AWS IoT assumes (20-2048 characters)',
    );
  }
  return roleArn;
}

export function createTemplates(
  store: ProvisioningStore,
  identity: CloudIdentity,
  now: () => number,
): ProvisioningTemplates {
  const find = (templateName: string): ProvisioningTemplateRecord => {
    const record = store.templates[templateName];
    if (!record) throw resourceNotFound(`The provisioning template ${templateName} does not exist`);
    return record;
  };

  return {
    create(input) {
      if (typeof input.templateName !== 'string' || !TEMPLATE_NAME.test(input.templateName)) {
        throw invalidRequest(
          `templateName ${JSON.stringify(input.templateName)} must be 1-36 characters of [0-9A-Za-z_-]`,
        );
      }
      const templateArn = arn(identity, 'iot', `provisioningtemplate/${input.templateName}`);
      if (store.templates[input.templateName]) {
        throw resourceAlreadyExists(
          `The provisioning template ${input.templateName} already exists`,
          input.templateName,
          templateArn,
        );
      }
      const type = input.type ?? 'FLEET_PROVISIONING';
      if (type !== 'FLEET_PROVISIONING' && type !== 'JITP')
        throw invalidRequest(`type ${String(type)} is not FLEET_PROVISIONING or JITP`);
      if (input.description !== undefined && input.description.length > 500) {
        throw invalidRequest('description is longer than 500 characters');
      }
      const templateBody = checkBody(input.templateBody);
      const provisioningRoleArn = checkRole(input.provisioningRoleArn);
      checkHook(input.preProvisioningHook, type);
      const at = now();
      const record: ProvisioningTemplateRecord = {
        templateName: input.templateName,
        templateArn,
        ...(input.description !== undefined ? { description: input.description } : {}),
        enabled: input.enabled ?? false,
        provisioningRoleArn,
        type,
        ...(input.preProvisioningHook
          ? {
              preProvisioningHook: {
                targetArn: input.preProvisioningHook.targetArn,
                payloadVersion: PAYLOAD_VERSION,
              },
            }
          : {}),
        defaultVersionId: 1,
        versions: [{ versionId: 1, templateBody, creationDate: at }],
        creationDate: at,
        lastModifiedDate: at,
        ...(input.tags ? { tags: input.tags } : {}),
      };
      store.update((s) => {
        s.templates[record.templateName] = record;
      });
      return record;
    },

    describe: find,

    list: () => Object.values(store.templates).sort((a, b) => a.templateName.localeCompare(b.templateName)),

    update(templateName, input: UpdateTemplateInput) {
      const record = structuredClone(find(templateName));
      if (input.preProvisioningHook && input.removePreProvisioningHook) {
        throw invalidRequest('Give preProvisioningHook or removePreProvisioningHook, not both');
      }
      if (input.description !== undefined) record.description = input.description;
      if (input.enabled !== undefined) record.enabled = input.enabled;
      if (input.provisioningRoleArn !== undefined)
        record.provisioningRoleArn = checkRole(input.provisioningRoleArn);
      if (input.preProvisioningHook) {
        checkHook(input.preProvisioningHook, record.type);
        record.preProvisioningHook = {
          targetArn: input.preProvisioningHook.targetArn,
          payloadVersion: PAYLOAD_VERSION,
        };
      }
      if (input.removePreProvisioningHook) delete record.preProvisioningHook;
      if (input.defaultVersionId !== undefined) {
        if (!record.versions.some((v) => v.versionId === input.defaultVersionId)) {
          throw resourceNotFound(`Version ${input.defaultVersionId} of ${templateName} does not exist`);
        }
        record.defaultVersionId = input.defaultVersionId;
      }
      record.lastModifiedDate = now();
      store.update((s) => {
        s.templates[templateName] = record;
      });
    },

    delete(templateName) {
      find(templateName);
      store.update((s) => {
        delete s.templates[templateName];
      });
    },

    createVersion(templateName, templateBody, setAsDefault): TemplateVersion {
      const record = structuredClone(find(templateName));
      const body = checkBody(templateBody);
      if (record.versions.length >= MAX_VERSIONS) {
        throw versionsLimitExceeded(`${templateName} has ${MAX_VERSIONS} versions; delete one first`);
      }
      const versionId = Math.max(...record.versions.map((v) => v.versionId)) + 1;
      const version = { versionId, templateBody: body, creationDate: now() };
      record.versions.push(version);
      if (setAsDefault) record.defaultVersionId = versionId;
      record.lastModifiedDate = version.creationDate;
      store.update((s) => {
        s.templates[templateName] = record;
      });
      return version;
    },

    deleteVersion(templateName, versionId) {
      const record = structuredClone(find(templateName));
      if (!record.versions.some((v) => v.versionId === versionId)) {
        throw resourceNotFound(`Version ${versionId} of ${templateName} does not exist`);
      }
      if (record.defaultVersionId === versionId) {
        throw deleteConflict(
          `Version ${versionId} is the default version of ${templateName}; set another default first`,
        );
      }
      record.versions = record.versions.filter((v) => v.versionId !== versionId);
      store.update((s) => {
        s.templates[templateName] = record;
      });
    },
  };
}

/** The default version's body of a template. */
export function defaultBody(record: ProvisioningTemplateRecord): string {
  return (record.versions.find((v) => v.versionId === record.defaultVersionId) ?? record.versions[0]!)
    .templateBody;
}
