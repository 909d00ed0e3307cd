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
 * Every PUBLISH and every delivery is checked, so the answers are kept per session: the
 * session's policies compiled and bound to its connection (thing, attributes, client id,
 * address) once, and each (action, resource) answer once. Any registry change (a policy, an
 * attachment, a thing, a certificate's status) drops them all, so the next check sees the
 * change, as before; registry changes are rare next to messages.
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
  /** Stops listening to the registry. */
  dispose(): void;
}

/** What a session's checks keep until the registry changes. */
interface SessionAnswers {
  readonly generation: number;
  /** The session's policies bound to it, or why it is refused everything. */
  readonly policies: BoundPolicies | { readonly refusal: string };
  /** Answer per `action resource`: '' allowed, else the reason. */
  readonly answers: Map<string, string>;
}

/** Answers kept per session; a client publishing to ever new topics only empties its map. */
const MAX_ANSWERS_PER_SESSION = 1024;

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
  const kept = new WeakMap<Session, SessionAnswers>();

  const answersOf = (session: Session): SessionAnswers => {
    const current = kept.get(session);
    if (current?.generation === generation) return current;
    const cert = directory.certificateById(session.certificateId);
    let policies: SessionAnswers['policies'];
    if (cert?.status !== 'ACTIVE') {
      policies = { refusal: `certificate is ${cert ? cert.status : 'no longer registered'}` };
    } else {
      const context = authorizationContext(
        directory,
        session.certificateArn,
        session.certificateId,
        session.clientId,
        session.ipAddress,
      );
      policies = compile(directory.policiesOfPrincipal(session.certificateArn)).bind(context);
    }
    const fresh: SessionAnswers = { generation, policies, answers: new Map() };
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
        if (own.answers.size >= MAX_ANSWERS_PER_SESSION) own.answers.clear();
        own.answers.set(key, answer);
      }
      return answer === '' ? undefined : answer;
    },
    dispose: stopListening,
  };
}
