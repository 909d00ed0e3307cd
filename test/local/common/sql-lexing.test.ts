import { describe, expect, it } from 'vitest';
import { scanQuoted } from '../../../local/common';

describe('scanQuoted', () => {
  it('reads the text between the quotes and returns the offset past the closing quote', () => {
    expect(scanQuoted(`x = 'abc' AND`, 4, false)).toEqual({ text: 'abc', end: 9 });
  });

  it('reads a doubled quote as one quote', () => {
    expect(scanQuoted(`'it''s'`, 0, false)).toEqual({ text: "it's", end: 7 });
    expect(scanQuoted(`"say ""hi"""`, 0, false)).toEqual({ text: 'say "hi"', end: 12 });
  });

  it('reads backslash escapes only when asked to', () => {
    expect(scanQuoted(String.raw`'a\'b\nc'`, 0, true)).toEqual({ text: "a'b\nc", end: 9 });
    expect(scanQuoted(String.raw`'a\nb'`, 0, false)).toEqual({ text: String.raw`a\nb`, end: 6 });
  });

  it('fails on unterminated text, including a quote escaped at the very end', () => {
    expect(scanQuoted(`'never closed`, 0, false)).toBeUndefined();
    expect(scanQuoted(String.raw`'ends in \'`, 0, true)).toBeUndefined();
  });
});
