/**
 * A certificate that leaves ACTIVE disconnects its live sessions (AWS IoT API Reference,
 * "UpdateCertificate": devices using it are disconnected and cannot reconnect). The broker
 * listens to the registry's certificate-status events; returns the function that stops
 * listening.
 */
import type { BrokerContext } from '../context';

export function closeSessionsOfRevokedCertificates(ctx: BrokerContext): () => void {
  return ctx.directory.on((event) => {
    if (event.type !== 'certificate-status' || event.status === 'ACTIVE') return;
    for (const session of ctx.sessions.ofCertificate(event.certificateId)) {
      ctx.refuse(
        session,
        'iot:Connect',
        ctx.resource('client', session.clientId),
        `certificate is now ${event.status}`,
        'live session closed',
      );
      session.reason = 'AUTH_ERROR';
      session.client.close();
    }
  });
}
