/** Types for js-md2 (MD2, RFC 1319), which ships none: the module is the hash function. */
declare module 'js-md2' {
  /** Lowercase hex MD2 digest of the UTF-8 bytes of `message`. */
  const md2: (message: string) => string;
  export default md2;
}
