/**
 * What every aedes hook of the broker shares: the registry it authenticates against, the
 * policy evaluator, the live sessions, and the two things each hook does the same way: ask
 * whether a session may perform an action on a resource, and log a refusal in one line
 * (client, action, resource, reason, consequence).
 *
 * Authorization follows the AWS IoT Core Developer Guide, "AWS IoT Core policy actions":
 * iot:Connect on client/<clientId>, iot:Publish and iot:RetainPublish and iot:Receive on
 * topic/<topic>, iot:Subscribe on topicfilter/<filter>; a certificate that is not ACTIVE is
 * refused everything.
 *
 * Every CONNECT, PUBLISH and delivery is checked, so the answers are kept: the policies of a
 * certificate compiled and bound to a connection's context (thing, attributes, client id,
 * address) once, and each (action, resource) answer once. They are shared by the connections
 * with the same certificate, client id and address (a device that reconnects finds its
 * iot:Connect answer ready; binding took about 0.1 ms per connect), at most 4,096 such
 * contexts. Any registry change (a policy, an attachment, a thing, a certificate's status)
 * drops them all, so the next check of a live session or a new connection sees the change,
 * as before; registry changes are rare next to messages.
 */
import type { Client } from 'aedes';
import { type CloudIdentity, iotArn, type LocalLogger } from '../common';
import type { BoundPolicies, PolicyCompiler, PrincipalDirectory } from '../iot';
import { Refusal } from './errors';
import { authorizationContext } from './identity';
import type { Session, SessionRegistry } from './sessions';

export type ResourceType = 'client' | 'topic' | 'topicfilter';

export interface BrokerContext {
  readonly directory: PrincipalDirectory;
  readonly log: LocalLogger;
  readonly sessions: SessionRegistry;
  /** The connected aedes client with this id, if any (a second connection takes it over). */
  clientById(clientId: string): Client | undefined;
  /** The IoT resource ARN an action applies to. */
  resource(type: ResourceType, name: string): string;
  /** Logs one refusal line and returns the Refusal to hand to aedes. */
  refuse(
    session: { clientId: string; certificateId?: string },
    action: string,
    resource: string,
    reason: string,
    consequence: string,
  ): Refusal;
  /** Evaluates one action for a live session; undefined when allowed, else the reason. */
  check(session: Session, action: string, resource: string): string | undefined;
  /** The thing whose name and attributes a connection's policy variables resolve to, if any. */
  thingOf(connection: Connection): string | undefined;
  /** Stops listening to the registry. */
  dispose(): void;
}

/** What the policy context of a connection is made of. */
export interface Connection {
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly clientId: string;
  readonly ipAddress?: string;
}

/** What the checks of one connection context keep until the registry changes. */
interface Answers {
  readonly generation: number;
  /** The policies bound to the context, or why it is refused everything. */
  readonly policies: BoundPolicies | { readonly refusal: string };
  /** Answer per `action resource`: '' allowed, else the reason. */
  readonly answers: Map<string, string>;
  /** The thing the policy variables resolve to. */
  readonly thingName?: string;
}

/** Answers kept per context; a client publishing to ever new topics only empties its map. */
const MAX_ANSWERS_PER_CONTEXT = 1024;
/** Contexts kept; past this the oldest is dropped (it is bound again when next needed). */
const MAX_CONTEXTS = 4096;

/** Certificate ids are hex; the client id's length keeps the key unambiguous. */
const contextKey = (c: Connection) =>
  `${c.certificateId}/${c.clientId.length}/${c.clientId}/${c.ipAddress ?? ''}`;

export const certShort = (id: string) => id.slice(0, 12);

export function createBrokerContext(options: {
  readonly directory: PrincipalDirectory;
  readonly compile: PolicyCompiler;
  readonly identity: CloudIdentity;
  readonly log: LocalLogger;
  readonly sessions: SessionRegistry;
  readonly clientById: (clientId: string) => Client | undefined;
}): BrokerContext {
  const { directory, compile, identity, log } = options;
  let generation = 0;
  const stopListening = directory.on(() => {
    generation++;
  });
  /** Answers per connection context of an ACTIVE certificate, all of the current generation. */
  const contexts = new Map<string, Answers>();
  let contextsGeneration = generation;
  /** The shared answers each live session last used. */
  const kept = new WeakMap<Session, Answers>();

  const answersFor = (connection: Connection): Answers => {
    if (contextsGeneration !== generation) {
      contexts.clear();
      contextsGeneration = generation;
    }
    const key = contextKey(connection);
    const current = contexts.get(key);
    if (current) return current;
    const cert = directory.certificateById(connection.certificateId);
    if (cert?.status !== 'ACTIVE') {
      // Not shared: registering a certificate again raises no registry event.
      const refusal = `certificate is ${cert ? cert.status : 'no longer registered'}`;
      return { generation, policies: { refusal }, answers: new Map() };
    }
    const context = authorizationContext(
      directory,
      connection.certificateArn,
      connection.certificateId,
      connection.clientId,
      connection.ipAddress,
    );
    const fresh: Answers = {
      generation,
      policies: compile(directory.policiesOfPrincipal(connection.certificateArn)).bind(context),
      answers: new Map(),
      ...(context.thing ? { thingName: context.thing.thingName } : {}),
    };
    if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
    contexts.set(key, fresh);
    return fresh;
  };

  const answersOf = (session: Session): Answers => {
    const current = kept.get(session);
    if (current?.generation === generation) return current;
    const fresh = answersFor(session);
    kept.set(session, fresh);
    return fresh;
  };

  return {
    directory,
    log,
    sessions: options.sessions,
    clientById: options.clientById,
    resource: (type, name) => iotArn(identity, type, name),
    refuse(session, action, res, reason, consequence) {
      const cert = session.certificateId ? ` certificate ${certShort(session.certificateId)}` : '';
      const line = `denied ${action} on ${res} for client '${session.clientId}'${cert}: ${reason}; ${consequence}`;
      log.warn(line);
      return new Refusal(line);
    },
    check(session, action, res) {
      const own = answersOf(session);
      if ('refusal' in own.policies) return own.policies.refusal;
      const key = `${action} ${res}`;
      let answer = own.answers.get(key);
      if (answer === undefined) {
        const result = own.policies.evaluate({ action, resource: res });
        answer = result.allowed ? '' : result.reason;
        if (own.answers.size >= MAX_ANSWERS_PER_CONTEXT) own.answers.clear();
        own.answers.set(key, answer);
      }
      return answer === '' ? undefined : answer;
    },
    thingOf: (connection) => answersFor(connection).thingName,
    dispose: stopListening,
  };
}
