/**
 * The piece of tokenizing that the two SQL dialects of the local cloud share: AWS IoT SQL
 * (`local/rules/sql`) and Timestream's query language (`local/timestream/query`). Both
 * lexers produce tokens of the same shape, `{ kind, text, pos }`, and read quoted text with
 * this one scanner; they differ in their kinds, operators and escapes.
 */

/**
 * Reads the quoted text that starts with the quote character at `start`: a doubled quote
 * stands for one quote; with `backslashEscapes`, `\n`, `\t` and `\<c>` are escapes too.
 * Returns the text between the quotes and the offset just past the closing quote, or
 * undefined when the text is not closed.
 */
export function scanQuoted(
  source: string,
  start: number,
  backslashEscapes: boolean,
): { readonly text: string; readonly end: number } | undefined {
  const quote = source[start];
  let text = '';
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (backslashEscapes && c === '\\' && i + 1 < source.length) {
      const e = source[i + 1]!;
      text += e === 'n' ? '\n' : e === 't' ? '\t' : e;
      i += 2;
      continue;
    }
    if (c === quote) {
      if (source[i + 1] === quote) {
        text += quote;
        i += 2;
        continue;
      }
      return { text, end: i + 1 };
    }
    text += c;
    i++;
  }
  return undefined;
}
