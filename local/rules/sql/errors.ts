/** Where a parse error is: 0-based offset and 1-based line and column. */
export interface SourcePosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/**
 * A statement AWS IoT would refuse with SqlParseException at CreateTopicRule, or one this
 * emulator cannot run faithfully (refused at deploy rather than misbehaving at runtime).
 */
export class SqlParseError extends Error {
  override readonly name = 'SqlParseError';
  /** The AWS exception this corresponds to. */
  readonly code = 'SqlParseException';
  constructor(
    readonly reason: string,
    readonly position: SourcePosition,
  ) {
    super(`line ${position.line}:${position.column} (offset ${position.offset}): ${reason}`);
  }
}
