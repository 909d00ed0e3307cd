/** A dashboard request the operator got wrong; the route answers 400 with the message. */
export class DashboardInputError extends Error {
  override readonly name = 'DashboardInputError';
}
