/** The part of qlobber (a topic-matching trie, the one aedes-persistence uses) this module calls. */
declare module 'qlobber' {
  export interface QlobberOptions {
    readonly separator?: string;
    readonly wildcard_one?: string;
    readonly wildcard_some?: string;
  }
  /** Values are kept once per topic filter; `match_iter` may yield a value more than once. */
  export class QlobberDedup<V = unknown> {
    constructor(options?: QlobberOptions);
    add(topic: string, value: V): this;
    remove(topic: string, value?: V): this;
    match_iter(topic: string): IterableIterator<V>;
    clear(): this;
  }
}
