/** Syntax tree of an IoT SQL statement. */
import type { SourcePosition } from './errors';

export type CastType = 'String' | 'Int' | 'Decimal' | 'Boolean';

export type BinaryOp = 'OR' | 'AND' | '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export type Expr =
  | { readonly k: 'literal'; readonly value: unknown }
  /** A top-level payload attribute. */
  | { readonly k: 'attribute'; readonly name: string }
  /** `*` as a value: the whole payload (raw bytes when it is not JSON). */
  | { readonly k: 'star' }
  | { readonly k: 'variable'; readonly name: string }
  | { readonly k: 'member'; readonly object: Expr; readonly name: string }
  | {
      readonly k: 'call';
      readonly name: string;
      readonly args: readonly Expr[];
      readonly pos: SourcePosition;
      /** Calls another service (aws_lambda, get_thing_shadow, ...): evaluated asynchronously. */
      readonly external?: boolean;
    }
  | { readonly k: 'cast'; readonly expr: Expr; readonly to: CastType }
  | { readonly k: 'negate'; readonly expr: Expr }
  | { readonly k: 'not'; readonly expr: Expr }
  | { readonly k: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | {
      readonly k: 'case';
      readonly subject: Expr;
      readonly whens: ReadonlyArray<{ readonly when: Expr; readonly result: Expr }>;
      readonly otherwise?: Expr;
    }
  | { readonly k: 'object'; readonly entries: ReadonlyArray<{ readonly key: string; readonly value: Expr }> }
  | { readonly k: 'array'; readonly items: readonly Expr[] }
  | { readonly k: 'subquery'; readonly query: Query };

export type SelectItem =
  | { readonly k: 'star' }
  | { readonly k: 'item'; readonly expr: Expr; readonly key: string };

export type Projection =
  | { readonly k: 'value'; readonly expr: Expr }
  | { readonly k: 'items'; readonly items: readonly SelectItem[] };

export interface Query {
  readonly sets: ReadonlyArray<{ readonly name: string; readonly expr: Expr }>;
  readonly projection: Projection;
  /** Top-level statements: a topic filter; nested queries: the array expression to iterate. */
  readonly from?:
    | { readonly k: 'topic'; readonly filter: string }
    | { readonly k: 'expr'; readonly expr: Expr };
  readonly where?: Expr;
}
