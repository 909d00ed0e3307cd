/**
 * The provisioning template engine, pure: checks a template body the way CreateProvisioningTemplate
 * does, and evaluates it with a request's parameters into the thing, certificate, policies and
 * device configuration to create (AWS IoT Developer Guide, "Provisioning templates").
 *
 * Served: `Parameters` (Type String, optional Default; a parameter without a value and without
 * a Default fails), `Mappings`, `Resources` of type AWS::IoT::Thing, AWS::IoT::Certificate and
 * AWS::IoT::Policy with `OverrideSettings`, `DeviceConfiguration`, and the intrinsic functions
 * the guide lists: Ref, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap and Fn::Sub.
 *
 * LIMITATIONS versus AWS:
 * - `Conditions` with Fn::Equals, Fn::Not, Fn::And, Fn::Or, `{"Condition": name}`, Fn::If and a
 *   resource's `Condition` are evaluated as CloudFormation defines them ("Condition functions"),
 *   but AWS IoT's template documentation does not list them: a template that uses them may be
 *   refused by AWS. zonectl's own template uses none.
 * - Parameter types other than String are refused (the guide shows String only).
 * - AttributePayload is the flat name/value map the guide shows; at most 3 attributes, as for a
 *   thing without a thing type. Thing types, thing groups and billing groups are refused.
 * - `OverrideSettings` absent means DO_NOTHING for an existing thing (AWS does not document the
 *   default).
 * - Error codes of the rejections (`InvalidParameters`, `InvalidTemplate`) are this emulator's
 *   choice: AWS documents no codes for them.
 */
import { createHash } from 'node:crypto';

export const RESOURCE_TYPES = ['AWS::IoT::Thing', 'AWS::IoT::Certificate', 'AWS::IoT::Policy'] as const;
const SECTIONS = ['Parameters', 'Mappings', 'Conditions', 'Resources', 'DeviceConfiguration'];
const OVERRIDES = ['DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'] as const;
export type OverrideSetting = (typeof OVERRIDES)[number];
export const CERTIFICATE_ID_PARAMETER = 'AWS::IoT::Certificate::Id';

/** Thing names, attributes (AWS IoT API Reference, "ThingAttribute", "AttributePayload"). */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#-]{1,128}$/;
const ATTRIBUTE_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;
const MAX_ATTRIBUTES_WITHOUT_TYPE = 3;

/** A template that cannot be stored (control plane) or evaluated (RegisterThing). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    /** `InvalidTemplate` for the body itself, `InvalidParameters` for the request's parameters. */
    readonly code: 'InvalidTemplate' | 'InvalidParameters',
    message: string,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new TemplateError('InvalidTemplate', message);

export interface PlannedThing {
  readonly thingName: string;
  readonly attributes: Record<string, string>;
  readonly override: OverrideSetting;
}

export interface PlannedPolicy {
  readonly policyName: string;
  /** Present when the template gives the document; absent: the policy must exist. */
  readonly document?: string;
}

export interface ProvisioningPlan {
  readonly thing?: PlannedThing;
  readonly certificate?: { readonly certificateId: string; readonly status: 'ACTIVE' | 'INACTIVE' };
  readonly policies: readonly PlannedPolicy[];
  readonly deviceConfiguration: Record<string, string>;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and checks a body as CreateProvisioningTemplate would; returns the parsed document. */
export function checkTemplateBody(text: string): Record<string, Json> {
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw invalid(`The template body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(body)) throw invalid('The template body must be a JSON object');
  for (const key of Object.keys(body)) {
    if (!SECTIONS.includes(key)) {
      throw invalid(`Unknown template section '${key}'; a template has ${SECTIONS.join(', ')}`);
    }
  }
  const parameters = body.Parameters ?? {};
  if (!isObject(parameters)) throw invalid('Parameters must be an object');
  for (const [name, p] of Object.entries(parameters)) {
    if (!isObject(p) || p.Type !== 'String') {
      throw invalid(`Parameter '${name}' must declare "Type": "String"`);
    }
    if (p.Default !== undefined && typeof p.Default !== 'string') {
      throw invalid(`The Default of parameter '${name}' must be a string`);
    }
  }
  const mappings = body.Mappings ?? {};
  if (!isObject(mappings)) throw invalid('Mappings must be an object');
  if (/"(Ref|Fn::[A-Za-z]+)"\s*:/.test(JSON.stringify(mappings))) {
    throw invalid('Mappings cannot contain parameters or intrinsic functions');
  }
  const resources = body.Resources;
  if (!isObject(resources) || Object.keys(resources).length === 0) {
    throw invalid('Resources must be an object with at least one resource');
  }
  const counts = new Map<string, number>();
  for (const [logical, r] of Object.entries(resources)) {
    if (!isObject(r) || !(RESOURCE_TYPES as readonly string[]).includes(String(r.Type))) {
      throw invalid(
        `Resource '${logical}' has type ${JSON.stringify(isObject(r) ? r.Type : r)}; use one of ${RESOURCE_TYPES.join(', ')}`,
      );
    }
    counts.set(String(r.Type), (counts.get(String(r.Type)) ?? 0) + 1);
    if (r.Properties !== undefined && !isObject(r.Properties)) {
      throw invalid(`Properties of resource '${logical}' must be an object`);
    }
    const props = (r.Properties ?? {}) as Record<string, Json>;
    if (
      r.Type === 'AWS::IoT::Policy' &&
      (props.PolicyName === undefined) === (props.PolicyDocument === undefined)
    ) {
      throw invalid(
        `Policy resource '${logical}' must have PolicyName or PolicyDocument, not both or neither`,
      );
    }
    if (r.Type === 'AWS::IoT::Thing') {
      for (const unsupported of ['ThingTypeName', 'ThingGroups', 'BillingGroup', 'PackageVersions']) {
        if (props[unsupported] !== undefined) {
          throw invalid(`Thing resource '${logical}': ${unsupported} is not supported by the local cloud`);
        }
      }
    }
    if (r.OverrideSettings !== undefined) {
      if (!isObject(r.OverrideSettings)) throw invalid(`OverrideSettings of '${logical}' must be an object`);
      for (const [k, v] of Object.entries(r.OverrideSettings)) {
        if (!(OVERRIDES as readonly Json[]).includes(v)) {
          throw invalid(
            `OverrideSettings.${k} of '${logical}' is ${JSON.stringify(v)}; use one of ${OVERRIDES.join(', ')}`,
          );
        }
      }
    }
  }
  for (const type of ['AWS::IoT::Thing', 'AWS::IoT::Certificate']) {
    if ((counts.get(type) ?? 0) > 1) throw invalid(`A template declares at most one ${type}`);
  }
  // Every Ref names a declared parameter (or a mapping key lookup through FindInMap).
  const declared = new Set([...Object.keys(parameters), CERTIFICATE_ID_PARAMETER]);
  const visit = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (isObject(v)) {
      if (typeof v.Ref === 'string' && Object.keys(v).length === 1 && !declared.has(v.Ref)) {
        throw invalid(`Ref to undeclared parameter '${v.Ref}'; declare it in Parameters`);
      }
      Object.values(v).forEach(visit);
    }
  };
  visit({ Resources: resources, DeviceConfiguration: body.DeviceConfiguration, Conditions: body.Conditions });
  return body;
}

/**
 * Evaluates a checked body with the request's parameters (after the hook's overrides) into a
 * plan; `certificateId` is the certificate whose ownership token was presented.
 */
export function planProvisioning(
  body: Record<string, Json>,
  given: Readonly<Record<string, string>>,
  certificateId: string,
): ProvisioningPlan {
  const declared = (body.Parameters ?? {}) as Record<string, { Default?: string }>;
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(declared)) {
    const value = name === CERTIFICATE_ID_PARAMETER ? certificateId : (given[name] ?? p.Default);
    if (value !== undefined) values[name] = value;
  }
  values[CERTIFICATE_ID_PARAMETER] = certificateId;
  const mappings = (body.Mappings ?? {}) as Record<string, Record<string, Record<string, Json>>>;
  const conditions = (body.Conditions ?? {}) as Record<string, Json>;
  const conditionCache = new Map<string, boolean>();

  const ref = (name: string): string => {
    const value = values[name];
    if (value === undefined) {
      throw new TemplateError(
        'InvalidParameters',
        `Parameter '${name}' has no value and no Default; pass it in the RegisterThing parameters`,
      );
    }
    return value;
  };

  const condition = (name: string, seen: readonly string[] = []): boolean => {
    const cached = conditionCache.get(name);
    if (cached !== undefined) return cached;
    if (!(name in conditions)) throw invalid(`Condition '${name}' is not declared in Conditions`);
    if (seen.includes(name)) throw invalid(`Condition '${name}' refers to itself`);
    const result = truth(conditions[name], [...seen, name]);
    conditionCache.set(name, result);
    return result;
  };

  const truth = (v: Json, seen: readonly string[]): boolean => {
    if (!isObject(v) || Object.keys(v).length !== 1) throw invalid(`Not a condition: ${JSON.stringify(v)}`);
    const [fn, args] = Object.entries(v)[0]!;
    if (fn === 'Condition') return condition(String(args), seen);
    if (!Array.isArray(args)) throw invalid(`${fn} takes a list`);
    switch (fn) {
      case 'Fn::Equals':
        if (args.length !== 2) throw invalid('Fn::Equals takes two values');
        return str(args[0]) === str(args[1]);
      case 'Fn::Not':
        if (args.length !== 1) throw invalid('Fn::Not takes one condition');
        return !truth(args[0], seen);
      case 'Fn::And':
      case 'Fn::Or':
        if (args.length < 2 || args.length > 10) throw invalid(`${fn} takes 2 to 10 conditions`);
        return fn === 'Fn::And' ? args.every((a) => truth(a, seen)) : args.some((a) => truth(a, seen));
      default:
        throw invalid(`${fn} is not a condition function`);
    }
  };

  const str = (v: Json): string => {
    const out = value(v);
    if (typeof out !== 'string') throw invalid(`Expected a string, got ${JSON.stringify(out)}`);
    return out;
  };

  const value = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(value);
    if (!isObject(v)) return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const fn = keys[0]!;
      const args = v[fn];
      switch (fn) {
        case 'Ref':
          return ref(String(args));
        case 'Fn::Join': {
          if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
            throw invalid('Fn::Join takes [delimiter, [values]]');
          }
          const list = value(args[1]);
          if (!Array.isArray(list)) throw invalid('Fn::Join takes a list of values');
          return list.map((x) => str(x)).join(args[0]);
        }
        case 'Fn::Select': {
          if (!Array.isArray(args) || args.length !== 2) throw invalid('Fn::Select takes [index, [values]]');
          const index = Number(value(args[0]));
          const list = value(args[1]);
          if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
            throw new TemplateError('InvalidParameters', `Fn::Select index ${index} is out of range`);
          }
          if (list[index] === null || list[index] === undefined) {
            throw new TemplateError('InvalidParameters', `Fn::Select picked a null value at ${index}`);
          }
          return list[index];
        }
        case 'Fn::Split': {
          if (!Array.isArray(args) || args.length !== 2 || typeof args[0] !== 'string') {
            throw invalid('Fn::Split takes [delimiter, string]');
          }
          return str(args[1]).split(args[0]);
        }
        case 'Fn::FindInMap': {
          if (!Array.isArray(args) || args.length !== 3) throw invalid('Fn::FindInMap takes [map, key, key]');
          const [map, top, second] = args.map((a) => str(a));
          const found = mappings[map!]?.[top!]?.[second!];
          if (found === undefined) {
            throw new TemplateError(
              'InvalidParameters',
              `Fn::FindInMap: no ${map}.${top}.${second} in Mappings`,
            );
          }
          return found;
        }
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(args) ? [args[0], args[1] ?? {}] : [args, {}];
          if (typeof text !== 'string' || !isObject(vars))
            throw invalid('Fn::Sub takes a string or [string, {variables}]');
          return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) =>
            name in vars ? str(vars[name]) : ref(name),
          );
        }
        case 'Fn::If': {
          if (!Array.isArray(args) || args.length !== 3)
            throw invalid('Fn::If takes [condition, then, else]');
          return condition(String(args[0])) ? value(args[1]) : value(args[2]);
        }
        default:
          if (fn.startsWith('Fn::'))
            throw invalid(`${fn} is not an intrinsic function of provisioning templates`);
      }
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]));
  };

  let thing: PlannedThing | undefined;
  let certificate: ProvisioningPlan['certificate'];
  const policies: PlannedPolicy[] = [];
  for (const [logical, raw] of Object.entries(body.Resources as Record<string, Record<string, Json>>)) {
    if (typeof raw.Condition === 'string' && !condition(raw.Condition)) continue;
    const props = value(raw.Properties ?? {}) as Record<string, Json>;
    if (raw.Type === 'AWS::IoT::Thing') {
      const thingName = props.ThingName;
      if (typeof thingName !== 'string' || !THING_NAME.test(thingName)) {
        throw new TemplateError(
          'InvalidParameters',
          `Thing '${logical}': ThingName ${JSON.stringify(thingName)} is not a thing name ([a-zA-Z0-9:_-], 1-128 characters)`,
        );
      }
      const payload = props.AttributePayload ?? {};
      if (!isObject(payload))
        throw invalid(`Thing '${logical}': AttributePayload must be a map of names to values`);
      const attributes: Record<string, string> = {};
      for (const [name, v] of Object.entries(payload)) {
        if (typeof v !== 'string' || !ATTRIBUTE_NAME.test(name) || !ATTRIBUTE_VALUE.test(v)) {
          throw new TemplateError(
            'InvalidParameters',
            `Thing '${logical}': attribute ${name}=${JSON.stringify(v)} is not a valid attribute (names [a-zA-Z0-9_.,@/:#-], values [a-zA-Z0-9_.,@/:#=[]-], no spaces)`,
          );
        }
        attributes[name] = v;
      }
      if (Object.keys(attributes).length > MAX_ATTRIBUTES_WITHOUT_TYPE) {
        throw new TemplateError(
          'InvalidParameters',
          `Thing '${logical}' has ${Object.keys(attributes).length} attributes; a thing without a thing type has at most ${MAX_ATTRIBUTES_WITHOUT_TYPE}`,
        );
      }
      const overrides = (raw.OverrideSettings ?? {}) as Record<string, OverrideSetting>;
      thing = { thingName, attributes, override: overrides.AttributePayload ?? 'DO_NOTHING' };
    } else if (raw.Type === 'AWS::IoT::Certificate') {
      if (props.CertificateSigningRequest !== undefined || props.CertificatePem !== undefined) {
        throw invalid(
          `Certificate '${logical}': a fleet provisioning template names its certificate by CertificateId only`,
        );
      }
      if (props.CertificateId !== certificateId) {
        throw new TemplateError(
          'InvalidParameters',
          `Certificate '${logical}': CertificateId must be the certificate of the ownership token (Ref AWS::IoT::Certificate::Id)`,
        );
      }
      const status = String(props.Status ?? 'ACTIVE').toUpperCase();
      if (status !== 'ACTIVE' && status !== 'INACTIVE') {
        throw new TemplateError(
          'InvalidParameters',
          `Certificate '${logical}': Status ${status} is not ACTIVE or INACTIVE`,
        );
      }
      certificate = { certificateId, status };
    } else {
      if (props.PolicyDocument !== undefined) {
        const document =
          typeof props.PolicyDocument === 'string'
            ? props.PolicyDocument
            : JSON.stringify(props.PolicyDocument);
        const policyName =
          typeof props.PolicyName === 'string'
            ? props.PolicyName
            : createHash('sha256').update(document).digest('hex');
        policies.push({ policyName, document });
      } else {
        policies.push({ policyName: str(props.PolicyName) });
      }
    }
  }
  const configuration = value(body.DeviceConfiguration ?? {});
  if (!isObject(configuration)) throw invalid('DeviceConfiguration must be an object');
  const deviceConfiguration: Record<string, string> = {};
  for (const [k, v] of Object.entries(configuration)) {
    deviceConfiguration[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    ...(thing ? { thing } : {}),
    ...(certificate ? { certificate } : {}),
    policies,
    deviceConfiguration,
  };
}
