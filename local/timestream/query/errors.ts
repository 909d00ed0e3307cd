/**
 * A query outside the subset the local Timestream answers, or one Timestream would refuse,
 * naming the construct and its position. The query runner answers it with ValidationException.
 */
export class QueryRefusal extends Error {
  override readonly name = 'QueryRefusal';
}
