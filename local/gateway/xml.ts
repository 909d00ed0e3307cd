/**
 * XML documents for the query protocol's responses (Amazon SQS Developer Guide, "Interpreting
 * Amazon SQS XML API responses"): built with fast-xml-parser's builder, which escapes text and
 * attribute values. An array is written as the element repeated once per item, which is how
 * the query protocol writes its flattened lists and maps.
 */
import { XMLBuilder } from 'fast-xml-parser';

/** Element content: text, a nested element map, or repeated elements. Empty maps give `<E/>`. */
export type XmlValue = string | number | boolean | XmlElements | readonly XmlValue[];
export interface XmlElements {
  readonly [element: string]: XmlValue | undefined;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: true,
});

/** `<?xml version="1.0"?><root xmlns="...">...</root>`; undefined members are left out. */
export function xmlDocument(root: string, content: XmlElements, xmlns?: string): string {
  return builder.build({
    '?xml': { '@_version': '1.0' },
    [root]: { ...(xmlns ? { '@_xmlns': xmlns } : {}), ...withoutUndefined(content) },
  }) as string;
}

function withoutUndefined(content: XmlElements): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(content)) if (v !== undefined) out[k] = v;
  return out;
}
