/**
 * CONNECT: the client certificate must be registered and ACTIVE, and its policies must allow
 * iot:Connect on client/<clientId> (AWS IoT Core Developer Guide, "Authentication" > "X.509
 * client certificates" and "AWS IoT Core policy actions"). A refused CONNECT gets CONNACK 5
 * (not authorized). A second connection with a client id in use takes over the first, whose
 * disconnect reason becomes DUPLICATE_CLIENTID ("AWS IoT differences from MQTT
 * specifications").
 */
import { randomUUID } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { AedesOptions } from 'aedes';
import { errorText } from '../../common';
import { internals } from '../aedes-internals';
import type { BrokerContext } from '../context';
import { Refusal } from '../errors';
import { peerCertificateId } from '../identity';
import type { Session } from '../sessions';
import { connectHandled } from '../tls';

/** CONNACK return codes (MQTT 3.1.1, 3.2.2.3). */
const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;
/** AWS IoT's client id limit: 128 bytes of UTF-8 ("AWS IoT Core message broker and protocol limits and quotas"). */
export const MAX_CLIENT_ID_BYTES = 128;
const SERVER_UNAVAILABLE = 3;

export function authenticateHook(ctx: BrokerContext): NonNullable<AedesOptions['authenticate']> {
  const { directory, log, sessions } = ctx;
  return (client, _username, _password, done) => {
    const socket = internals(client).conn;
    connectHandled(socket as TLSSocket);
    const clientId = client.id;
    const ip = socket.remoteAddress;
    const certificateId = peerCertificateId(socket);
    const fail = (reason: string, certificateId?: string) => {
      const refusal = ctx.refuse(
        { clientId, ...(certificateId ? { certificateId } : {}) },
        'iot:Connect',
        ctx.resource('client', clientId),
        reason,
        'connection refused',
      );
      done(new Refusal(refusal.message, NOT_AUTHORIZED) as Refusal & { returnCode: number }, false);
    };
    try {
      const idBytes = Buffer.byteLength(clientId, 'utf8');
      if (idBytes > MAX_CLIENT_ID_BYTES) {
        const refusal = ctx.refuse(
          { clientId: `${clientId.slice(0, 32)}...`, ...(certificateId ? { certificateId } : {}) },
          'iot:Connect',
          ctx.resource('client', clientId.slice(0, 32)),
          `client id is ${idBytes} bytes; the limit is ${MAX_CLIENT_ID_BYTES}`,
          'connection refused',
        );
        done(new Refusal(refusal.message, IDENTIFIER_REJECTED) as Refusal & { returnCode: number }, false);
        return;
      }
      if (!certificateId) return fail('no client certificate');
      const cert = directory.certificateById(certificateId);
      if (!cert) return fail('certificate is not registered', certificateId);
      if (cert.status !== 'ACTIVE') return fail(`certificate is ${cert.status}`, certificateId);
      const thingName = ctx.thingOf({
        certificateId,
        certificateArn: cert.certificateArn,
        clientId,
        ...(ip ? { ipAddress: ip } : {}),
      });
      const session: Session = {
        clientId,
        sessionIdentifier: randomUUID(),
        principalIdentifier: certificateId,
        ...(ip ? { ipAddress: ip } : {}),
        versionNumber: sessions.nextVersion(clientId),
        certificateId,
        certificateArn: cert.certificateArn,
        client,
        announced: false,
        ...(thingName ? { thingName } : {}),
      };
      const denied = ctx.check(session, 'iot:Connect', ctx.resource('client', clientId));
      if (denied) return fail(denied, certificateId);
      const previous = ctx.clientById(clientId);
      const previousSession = previous ? sessions.get(previous) : undefined;
      if (previousSession) previousSession.reason = 'DUPLICATE_CLIENTID';
      sessions.add(session);
      done(null, true);
    } catch (err) {
      log.error(`authentication of client '${clientId}' failed: ${errorText(err)}`);
      const unavailable = Object.assign(new Error('Server unavailable'), { returnCode: SERVER_UNAVAILABLE });
      done(unavailable as never, false);
    }
  };
}
