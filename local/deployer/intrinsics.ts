/**
 * Resolves the CloudFormation intrinsic functions a CDK template uses, with the local
 * account and region as pseudo parameters.
 *
 * Follows the CloudFormation User Guide, "Intrinsic function reference" (Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or,
 * Fn::Base64, Fn::GetAZs) and "Pseudo parameters reference".
 *
 * LIMITATIONS versus AWS: Fn::ImportValue, Fn::FindInMap (no Mappings in our templates),
 * Fn::Cidr, Fn::Transform and Fn::GetAZs beyond a fixed list are not supported and fail with
 * a clear error naming the function and where it was used.
 */
import { IntrinsicError } from './errors';

export interface ResolvedResource {
  /** What `Ref` returns. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface IntrinsicContext {
  readonly accountId: string;
  readonly region: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly conditions: Readonly<Record<string, boolean>>;
  resource(logicalId: string): ResolvedResource | undefined;
}

export { IntrinsicError } from './errors';

/** Marker for a property removed by Fn::If with AWS::NoValue. */
export const NO_VALUE = Symbol('AWS::NoValue');

export function pseudoParameter(name: string, ctx: IntrinsicContext): unknown {
  switch (name) {
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return ctx.stackId;
    case 'AWS::NoValue':
      return NO_VALUE;
    case 'AWS::NotificationARNs':
      return [];
    default:
      return undefined;
  }
}

export function resolve(value: unknown, ctx: IntrinsicContext, where = 'template'): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolve(v, ctx, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
  }
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition') {
      return resolveFunction(key, arg, ctx, where);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const resolved = resolve(v, ctx, `${where}.${k}`);
    if (resolved !== NO_VALUE) out[k] = resolved;
  }
  return out;
}

function resolveFunction(fn: string, arg: unknown, ctx: IntrinsicContext, where: string): unknown {
  const at = `${fn} at ${where}`;
  switch (fn) {
    case 'Ref': {
      if (typeof arg !== 'string') throw new IntrinsicError(`${at}: expected a logical id or parameter name`);
      const pseudo = pseudoParameter(arg, ctx);
      if (pseudo !== undefined) return pseudo;
      if (arg in ctx.parameters) return ctx.parameters[arg];
      const res = ctx.resource(arg);
      if (!res) throw new IntrinsicError(`${at}: '${arg}' is not a resource, parameter or pseudo parameter`);
      return res.ref;
    }
    case 'Fn::GetAtt': {
      const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
      const res = ctx.resource(String(logicalId));
      if (!res) throw new IntrinsicError(`${at}: '${String(logicalId)}' is not a resource of the stack`);
      const name = String(resolve(attribute, ctx, where));
      if (!(name in res.attributes)) {
        throw new IntrinsicError(
          `${at}: resource '${String(logicalId)}' has no attribute '${name}' locally (known: ${Object.keys(res.attributes).join(', ') || 'none'})`,
        );
      }
      return res.attributes[name];
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new IntrinsicError(`${at}: expected [delimiter, [values]]`);
      const list = resolve(arg[1], ctx, where);
      if (!Array.isArray(list)) throw new IntrinsicError(`${at}: the second argument must resolve to a list`);
      return list.map((v) => scalar(v, at)).join(String(arg[0]));
    }
    case 'Fn::Sub': {
      const [template, vars] = Array.isArray(arg) ? arg : [arg, {}];
      if (typeof template !== 'string') throw new IntrinsicError(`${at}: expected a template string`);
      const resolvedVars = resolve(vars ?? {}, ctx, where) as Record<string, unknown>;
      return template.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
        if (name.startsWith('!')) return `\${${name.slice(1)}}`;
        if (name in resolvedVars) return scalar(resolvedVars[name], at);
        if (name.includes('.')) {
          const [id, ...attr] = name.split('.');
          return scalar(resolveFunction('Fn::GetAtt', [id, attr.join('.')], ctx, where), at);
        }
        const value = resolveFunction('Ref', name, ctx, where);
        if (value === undefined) return whole;
        return scalar(value, at);
      });
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new IntrinsicError(`${at}: expected [index, list]`);
      const index = Number(resolve(arg[0], ctx, where));
      const list = resolve(arg[1], ctx, where);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new IntrinsicError(`${at}: index ${index} is outside the list`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new IntrinsicError(`${at}: expected [delimiter, string]`);
      return String(resolve(arg[1], ctx, where)).split(String(arg[0]));
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3)
        throw new IntrinsicError(`${at}: expected [condition, then, else]`);
      const cond = ctx.conditions[String(arg[0])];
      if (cond === undefined) throw new IntrinsicError(`${at}: unknown condition '${String(arg[0])}'`);
      return resolve(cond ? arg[1] : arg[2], ctx, where);
    }
    case 'Fn::Equals': {
      if (!Array.isArray(arg) || arg.length !== 2) throw new IntrinsicError(`${at}: expected two values`);
      return JSON.stringify(resolve(arg[0], ctx, where)) === JSON.stringify(resolve(arg[1], ctx, where));
    }
    case 'Fn::Not':
      return !truthy(resolve((arg as unknown[])[0], ctx, where));
    case 'Fn::And':
      return (arg as unknown[]).every((a) => truthy(resolve(a, ctx, where)));
    case 'Fn::Or':
      return (arg as unknown[]).some((a) => truthy(resolve(a, ctx, where)));
    case 'Condition': {
      const cond = ctx.conditions[String(arg)];
      if (cond === undefined) throw new IntrinsicError(`${at}: unknown condition '${String(arg)}'`);
      return cond;
    }
    case 'Fn::Base64':
      return Buffer.from(String(resolve(arg, ctx, where))).toString('base64');
    case 'Fn::GetAZs':
      return ['a', 'b', 'c'].map((s) => `${ctx.region}${s}`);
    default:
      throw new IntrinsicError(`${at}: ${fn} is not supported by the local deployer`);
  }
}

function scalar(value: unknown, at: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new IntrinsicError(`${at}: expected a string value, got ${JSON.stringify(value)}`);
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

/** Logical ids a value refers to (Ref, GetAtt, Sub), for ordering resources. */
export function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, out);
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  for (const [key, arg] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Ref' && typeof arg === 'string' && !arg.startsWith('AWS::')) out.add(arg);
    else if (key === 'Fn::GetAtt') {
      out.add(String(Array.isArray(arg) ? arg[0] : String(arg).split('.')[0]));
    } else if (key === 'Fn::Sub') {
      const template = Array.isArray(arg) ? arg[0] : arg;
      if (typeof template === 'string') {
        for (const m of template.matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const name = m[1]!.split('.')[0]!;
          if (!name.startsWith('AWS::')) out.add(name);
        }
      }
      if (Array.isArray(arg)) references(arg[1], out);
    } else references(arg, out);
  }
  return out;
}
