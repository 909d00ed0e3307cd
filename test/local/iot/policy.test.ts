// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IoT policy variables are literal ${...} text
import { describe, expect, it } from 'vitest';
import { compilePolicies, evaluatePolicies, parsePolicyDocument } from '../../../local/iot/policy';
import type { AuthorizationContext, PolicyDocument, ThingRecord } from '../../../local/iot/types';

const ARN = 'arn:aws:iot:us-east-1:000000000000';
const thing: ThingRecord = {
  thingName: 'lobby-t1',
  thingArn: `${ARN}:thing/lobby-t1`,
  thingId: 'id-1',
  thingTypeName: 'sensor',
  attributes: { zone: 'lobby', building: 'hq' },
  version: 1,
};
const attached: AuthorizationContext = {
  clientId: 'lobby-t1',
  thing,
  isAttached: true,
  sourceIp: '127.0.0.1',
};
const unattached: AuthorizationContext = { clientId: 'lobby-t1', isAttached: false };

const policy = (policyName: string, ...Statement: PolicyDocument['Statement'][]) => ({
  policyName,
  document: { Version: '2012-10-17', Statement: Statement.flat() } as PolicyDocument,
});
const allow = (Action: string | string[], Resource: string | string[], extra = {}) => ({
  Effect: 'Allow' as const,
  Action,
  Resource,
  ...extra,
});
const deny = (Action: string | string[], Resource: string | string[]) => ({
  Effect: 'Deny' as const,
  Action,
  Resource,
});

const check = (policies: ReturnType<typeof policy>[], action: string, resource: string, context = attached) =>
  evaluatePolicies(policies, { action, resource: `${ARN}:${resource}` }, context);

describe('IoT policy evaluation', () => {
  it('denies everything when no policy is attached', () => {
    const r = check([], 'iot:Connect', 'client/lobby-t1');
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/no policy is attached/);
  });

  it('denies by default when no statement matches, naming the policies it checked', () => {
    const r = check([policy('p1', allow('iot:Publish', `${ARN}:topic/a`))], 'iot:Publish', 'topic/b');
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/no statement in the attached policies \(p1\) allows iot:Publish/);
  });

  it('allows an action and names the statement that allowed it', () => {
    const r = check(
      [policy('p1', allow('iot:Connect', `${ARN}:client/lobby-t1`))],
      'iot:Connect',
      'client/lobby-t1',
    );
    expect(r).toEqual({ allowed: true, reason: 'allowed by policy p1 Statement[0]' });
  });

  it('lets an explicit Deny in one policy override an Allow in another', () => {
    const r = check(
      [
        policy('open', allow('iot:*', '*')),
        policy('guard', allow('iot:Connect', '*'), deny('iot:Publish', `${ARN}:topic/a/*`)),
      ],
      'iot:Publish',
      'topic/a/b',
    );
    expect(r.allowed).toBe(false);
    expect(r.reason).toBe('explicitly denied by policy guard Statement[1]');
  });

  it('matches actions with wildcards, case-insensitively', () => {
    const p = [policy('p', allow('iot:Pub*', '*'))];
    expect(check(p, 'iot:Publish', 'topic/x').allowed).toBe(true);
    expect(check(p, 'IOT:publish', 'topic/x').allowed).toBe(true);
    expect(check(p, 'iot:Subscribe', 'topicfilter/x').allowed).toBe(false);
  });

  it('applies NotAction to every action except the listed ones', () => {
    const p = [policy('p', { Effect: 'Allow', NotAction: 'iot:Publish', Resource: '*' })];
    expect(check(p, 'iot:Subscribe', 'topicfilter/x').allowed).toBe(true);
    expect(check(p, 'iot:Publish', 'topic/x').allowed).toBe(false);
  });

  it('lets * in a resource match across topic levels', () => {
    const p = [policy('p', allow('iot:Publish', `${ARN}:topic/dt/*`))];
    expect(check(p, 'iot:Publish', 'topic/dt/hq/lobby/t1/readings').allowed).toBe(true);
  });

  it('lets ? match exactly one character', () => {
    const p = [policy('p', allow('iot:Publish', `${ARN}:topic/room/??`))];
    expect(check(p, 'iot:Publish', 'topic/room/12').allowed).toBe(true);
    expect(check(p, 'iot:Publish', 'topic/room/123').allowed).toBe(false);
    expect(check(p, 'iot:Publish', 'topic/room/1').allowed).toBe(false);
  });

  it('treats + in a topicfilter resource as a literal character', () => {
    const p = [policy('p', allow('iot:Subscribe', `${ARN}:topicfilter/some/+/topic`))];
    expect(check(p, 'iot:Subscribe', 'topicfilter/some/+/topic').allowed).toBe(true);
    expect(check(p, 'iot:Subscribe', 'topicfilter/some/x/topic').allowed).toBe(false);
  });

  it('treats # in a resource as a literal character', () => {
    const p = [policy('p', allow('iot:Subscribe', `${ARN}:topicfilter/a/#`))];
    expect(check(p, 'iot:Subscribe', 'topicfilter/a/#').allowed).toBe(true);
    expect(check(p, 'iot:Subscribe', 'topicfilter/a/b').allowed).toBe(false);
  });

  it('lets topicfilter/a/* allow subscribing to a/# even with a Deny on topicfilter/a/restricted/*', () => {
    const p = [
      policy(
        'p',
        allow('iot:Subscribe', `${ARN}:topicfilter/a/*`),
        deny('iot:Subscribe', `${ARN}:topicfilter/a/restricted/*`),
      ),
    ];
    expect(check(p, 'iot:Subscribe', 'topicfilter/a/#').allowed).toBe(true);
    expect(check(p, 'iot:Subscribe', 'topicfilter/a/restricted/x').allowed).toBe(false);
  });

  it('limits iot:Receive with NotResource', () => {
    const p = [
      policy('p', { Effect: 'Allow', Action: 'iot:Receive', NotResource: `${ARN}:topic/a/restricted/*` }),
    ];
    expect(check(p, 'iot:Receive', 'topic/a/open').allowed).toBe(true);
    expect(check(p, 'iot:Receive', 'topic/a/restricted/x').allowed).toBe(false);
  });

  it('resolves ${iot:Connection.Thing.ThingName} for an attached thing', () => {
    const p = [policy('p', allow('iot:Publish', `${ARN}:topic/dt/\${iot:Connection.Thing.ThingName}/*`))];
    expect(check(p, 'iot:Publish', 'topic/dt/lobby-t1/readings').allowed).toBe(true);
    expect(check(p, 'iot:Publish', 'topic/dt/lobby-t2/readings').allowed).toBe(false);
  });

  it('does not apply a statement whose thing variable has no attached thing', () => {
    const p = [policy('p', allow('iot:Publish', `${ARN}:topic/dt/\${iot:Connection.Thing.ThingName}/*`))];
    const r = check(p, 'iot:Publish', 'topic/dt/lobby-t1/readings', unattached);
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/\$\{iot:Connection\.Thing\.ThingName\} cannot be resolved/);
  });

  it('resolves thing attributes and the thing type name', () => {
    const p = [
      policy(
        'p',
        allow(
          'iot:Publish',
          `${ARN}:topic/\${iot:Connection.Thing.Attributes[building]}/\${iot:Connection.Thing.Attributes[zone]}/\${iot:Connection.Thing.ThingTypeName}`,
        ),
      ),
    ];
    expect(check(p, 'iot:Publish', 'topic/hq/lobby/sensor').allowed).toBe(true);
  });

  it('does not apply a statement whose attribute variable names a missing attribute', () => {
    const p = [
      policy(
        'p',
        allow('iot:Publish', [`${ARN}:topic/\${iot:Connection.Thing.Attributes[floor]}/*`, `${ARN}:topic/x`]),
      ),
    ];
    const r = check(p, 'iot:Publish', 'topic/lobby/t1');
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/Attributes\[floor\]\} cannot be resolved/);
    expect(check(p, 'iot:Publish', 'topic/x').allowed).toBe(true);
  });

  it('skips a Deny statement whose variable cannot be resolved', () => {
    const p = [
      policy(
        'p',
        allow('iot:Publish', '*'),
        deny('iot:Publish', `${ARN}:topic/\${iot:Connection.Thing.Attributes[floor]}`),
      ),
    ];
    // The Deny cannot be resolved, so it does not apply and the Allow stands (AWS: unresolved statements do not match).
    expect(check(p, 'iot:Publish', 'topic/anything').allowed).toBe(true);
  });

  it('substitutes ${iot:ClientId} as literal text, never as a wildcard', () => {
    const p = [policy('p', allow('iot:Subscribe', `${ARN}:topicfilter/my/\${iot:ClientId}/topic`))];
    const star: AuthorizationContext = { clientId: '*', isAttached: false };
    expect(check(p, 'iot:Subscribe', 'topicfilter/my/*/topic', star).allowed).toBe(true);
    expect(check(p, 'iot:Subscribe', 'topicfilter/my/other/topic', star).allowed).toBe(false);
  });

  it('matches the ${*} escape as a literal star', () => {
    const p = [policy('p', allow('iot:Publish', `${ARN}:topic/a\${*}`))];
    expect(check(p, 'iot:Publish', 'topic/a*').allowed).toBe(true);
    expect(check(p, 'iot:Publish', 'topic/ab').allowed).toBe(false);
  });

  it('allows Connect only when the Bool IsAttached condition holds', () => {
    const p = [
      policy(
        'p',
        allow('iot:Connect', `${ARN}:client/\${iot:Connection.Thing.ThingName}`, {
          Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
        }),
      ),
    ];
    expect(check(p, 'iot:Connect', 'client/lobby-t1').allowed).toBe(true);
    const r = check(p, 'iot:Connect', 'client/lobby-t1', { ...attached, isAttached: false });
    expect(r.allowed).toBe(false);
  });

  it('checks the IsAttached condition even when the resource has no variable', () => {
    const p = [
      policy(
        'p',
        allow('iot:Connect', '*', { Condition: { Bool: { 'iot:Connection.Thing.IsAttached': ['true'] } } }),
      ),
    ];
    const r = check(p, 'iot:Connect', 'client/lobby-t1', unattached);
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/condition Bool iot:Connection.Thing.IsAttached not met/);
  });

  it('evaluates StringEquals on iot:ClientId against a policy variable', () => {
    const p = [
      policy(
        'p',
        allow('iot:Connect', '*', {
          Condition: { StringEquals: { 'iot:ClientId': '${iot:Connection.Thing.ThingName}' } },
        }),
      ),
    ];
    expect(check(p, 'iot:Connect', 'client/lobby-t1').allowed).toBe(true);
    expect(check(p, 'iot:Connect', 'client/x', { ...attached, clientId: 'x' }).allowed).toBe(false);
  });

  it('evaluates StringLike and StringNotEquals', () => {
    const like = [
      policy('p', allow('iot:Connect', '*', { Condition: { StringLike: { 'iot:ClientId': 'lobby-*' } } })),
    ];
    expect(check(like, 'iot:Connect', 'client/lobby-t1').allowed).toBe(true);
    expect(check(like, 'iot:Connect', 'client/x', { ...attached, clientId: 'roof-1' }).allowed).toBe(false);
    const not = [
      policy(
        'p',
        allow('iot:Connect', '*', { Condition: { StringNotEquals: { 'iot:ClientId': ['admin', 'root'] } } }),
      ),
    ];
    expect(check(not, 'iot:Connect', 'client/lobby-t1').allowed).toBe(true);
    expect(check(not, 'iot:Connect', 'client/admin', { ...attached, clientId: 'admin' }).allowed).toBe(false);
  });

  it('evaluates IpAddress on aws:SourceIp', () => {
    const p = [
      policy('p', allow('iot:Connect', '*', { Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } })),
    ];
    expect(check(p, 'iot:Connect', 'client/a').allowed).toBe(true);
    expect(check(p, 'iot:Connect', 'client/a', { ...attached, sourceIp: '10.0.0.1' }).allowed).toBe(false);
    expect(check(p, 'iot:Connect', 'client/a', { ...attached, sourceIp: undefined }).allowed).toBe(false);
  });

  it('evaluates ArnLike on a condition key', () => {
    const p = [
      policy('p', allow('iot:Connect', '*', { Condition: { ArnLike: { 'iot:ClientId': 'lobby-??' } } })),
      policy('q', allow('iot:Publish', '*', { Condition: { ArnEquals: { 'iot:ClientId': 'lobby-t1' } } })),
    ];
    expect(check(p, 'iot:Connect', 'client/lobby-t1').allowed).toBe(true);
    expect(check(p, 'iot:Publish', 'topic/x').allowed).toBe(true);
  });

  it('refuses with a reason when a condition operator is unsupported', () => {
    const p = [
      policy(
        'p',
        allow('iot:Connect', '*', { Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020' } } }),
      ),
    ];
    const r = check(p, 'iot:Connect', 'client/a');
    expect(r.allowed).toBe(false);
    expect(r.reason).toMatch(/unsupported condition operator DateGreaterThan/);
  });
});

const cond = (condition: unknown) =>
  JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: condition }] });

describe('policy document validation', () => {
  it('accepts the operators it evaluates, with IfExists, and scalar or list values', () => {
    expect(() =>
      parsePolicyDocument(
        cond({
          StringEqualsIfExists: { 'iot:ClientId': ['a', 'b'] },
          Bool: { 'iot:Connection.Thing.IsAttached': true },
          NumericLessThan: { 'iot:ConnectionId': 5 },
          Null: { 'iot:ClientId': 'false' },
        }),
      ),
    ).not.toThrow();
  });

  it('accepts a well-formed document with one statement object', () => {
    const doc = parsePolicyDocument(
      JSON.stringify({ Version: '2012-10-17', Statement: allow('iot:*', '*') }),
    );
    expect(doc.Statement).toMatchObject({ Effect: 'Allow' });
  });

  it.each([
    ['not JSON', '{'],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['a bad Effect', '{"Statement":[{"Effect":"Maybe","Action":"iot:*","Resource":"*"}]}'],
    ['no Resource', '{"Statement":[{"Effect":"Allow","Action":"iot:*"}]}'],
    ['an unknown condition operator', cond({ StringEqualz: { 'iot:ClientId': 'a' } })],
    ["Object's own member as an operator", cond({ constructor: { 'iot:ClientId': 'a' } })],
    ['a condition that is a list', cond([{ StringEquals: { 'iot:ClientId': 'a' } }])],
    ['condition keys that are not an object', cond({ StringEquals: 'iot:ClientId' })],
    ['a condition value that is an object', cond({ StringEquals: { 'iot:ClientId': { a: 1 } } })],
    ['an empty list of condition values', cond({ StringEquals: { 'iot:ClientId': [] } })],
  ])('rejects a document with %s as MalformedPolicyException', (_what, text) => {
    expect(() => parsePolicyDocument(text)).toThrow(
      expect.objectContaining({ code: 'MalformedPolicyException' }),
    );
  });
});

describe('compiled IoT policies', () => {
  const zoneTopics = policy(
    'zones',
    allow('iot:Publish', `${ARN}:topic/dt/\${iot:Connection.Thing.Attributes[zone]}/\${iot:ClientId}`),
    deny('iot:Publish', `${ARN}:topic/dt/lobby/blocked`),
  );

  it('answers each connection it is bound to with that connection variables', () => {
    const compiled = compilePolicies([zoneTopics]);
    const lobby = compiled.bind(attached);
    const office = compiled.bind({ ...attached, thing: { ...thing, attributes: { zone: 'office' } } });
    const publish = (topic: string) => ({ action: 'iot:Publish', resource: `${ARN}:topic/${topic}` });
    expect(lobby.evaluate(publish('dt/lobby/lobby-t1')).allowed).toBe(true);
    expect(lobby.evaluate(publish('dt/office/lobby-t1')).allowed).toBe(false);
    expect(office.evaluate(publish('dt/office/lobby-t1')).allowed).toBe(true);
    expect(office.evaluate(publish('dt/lobby/lobby-t1')).allowed).toBe(false);
  });

  it('gives the same answers and reasons bound once as evaluated afresh, for allows, denies and unresolved variables', () => {
    const compiled = compilePolicies([zoneTopics]);
    for (const context of [attached, unattached]) {
      const bound = compiled.bind(context);
      for (const topic of ['dt/lobby/lobby-t1', 'dt/lobby/blocked', 'dt/x/y', 'dt/lobby/lobby-t1/extra']) {
        const request = { action: 'iot:Publish', resource: `${ARN}:topic/${topic}` };
        expect(bound.evaluate(request)).toEqual(evaluatePolicies([zoneTopics], request, context));
      }
    }
    expect(
      compiled.bind(unattached).evaluate({ action: 'iot:Publish', resource: `${ARN}:topic/dt/a/b` }).reason,
    ).toMatch(/policy variable \$\{iot:Connection\.Thing\.Attributes\[zone\]\} cannot be resolved/);
  });

  it('treats regular-expression characters in resources as plain text, with or without variables', () => {
    const literal = policy(
      'p',
      allow('iot:Publish', [`${ARN}:topic/a.b+c/(d)`, `${ARN}:topic/\${iot:ClientId}.x`]),
    );
    const bound = compilePolicies([literal]).bind(attached);
    const publish = (topic: string) =>
      bound.evaluate({ action: 'iot:Publish', resource: `${ARN}:topic/${topic}` });
    expect(publish('a.b+c/(d)').allowed).toBe(true);
    expect(publish('aXb+c/(d)').allowed).toBe(false);
    expect(publish('lobby-t1.x').allowed).toBe(true);
    expect(publish('lobby-t1Yx').allowed).toBe(false);
  });
});
