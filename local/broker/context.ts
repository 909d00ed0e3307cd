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
 */
import type { Client } from 'aedes';
import { type CloudIdentity, iotArn, type LocalLogger } from '../common';
import type { PolicyEvaluator, PrincipalDirectory } from '../iot';
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
}

export const certShort = (id: string) => id.slice(0, 12);

export function createBrokerContext(options: {
  readonly directory: PrincipalDirectory;
  readonly evaluate: PolicyEvaluator;
  readonly identity: CloudIdentity;
  readonly log: LocalLogger;
  readonly sessions: SessionRegistry;
  readonly clientById: (clientId: string) => Client | undefined;
}): BrokerContext {
  const { directory, evaluate, identity, log } = options;
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
      const cert = directory.certificateById(session.certificateId);
      if (cert?.status !== 'ACTIVE') {
        return `certificate is ${cert ? cert.status : 'no longer registered'}`;
      }
      const context = authorizationContext(
        directory,
        session.certificateArn,
        session.certificateId,
        session.clientId,
        session.ipAddress,
      );
      const result = evaluate(
        directory.policiesOfPrincipal(session.certificateArn),
        { action, resource: res },
        context,
      );
      return result.allowed ? undefined : result.reason;
    },
  };
}
