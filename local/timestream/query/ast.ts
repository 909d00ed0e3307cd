/** Syntax tree of a Timestream SELECT statement, as the parser builds it; `pos` is a 1-based offset. */
export type Expr =
  | { k: 'col'; name: string; qualifier?: string; pos: number }
  | { k: 'num'; text: string; pos: number }
  | { k: 'str'; value: string; pos: number }
  | { k: 'bool'; value: boolean; pos: number }
  | { k: 'null'; pos: number }
  | { k: 'dur'; ns: bigint; text: string; pos: number }
  | { k: 'call'; name: string; args: Expr[]; star: boolean; distinct: boolean; pos: number }
  | { k: 'binary'; op: string; left: Expr; right: Expr; pos: number }
  | { k: 'not'; expr: Expr; pos: number }
  | { k: 'neg'; expr: Expr; pos: number }
  | { k: 'between'; expr: Expr; low: Expr; high: Expr; not: boolean; pos: number }
  | { k: 'in'; expr: Expr; list: Expr[]; not: boolean; pos: number }
  | { k: 'isnull'; expr: Expr; not: boolean; pos: number }
  | { k: 'like'; expr: Expr; pattern: Expr; not: boolean; pos: number };

export interface SelectItem {
  readonly expr: Expr | 'star';
  readonly alias?: string;
}

export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
  readonly nulls?: 'first' | 'last';
}

export interface SelectStatement {
  readonly distinct: boolean;
  readonly items: SelectItem[];
  readonly from: { database: string; table: string; alias?: string };
  readonly where?: Expr;
  readonly groupBy: Expr[];
  readonly having?: Expr;
  readonly orderBy: OrderItem[];
  readonly limit?: number;
}
