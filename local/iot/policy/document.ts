/**
 * Validation of a policy document as CreatePolicy does it (AWS IoT API Reference,
 * CreatePolicy: MalformedPolicyException for a document that is not a valid policy; at most
 * 2048 characters excluding whitespace).
 */
import { malformedPolicy } from '../errors';
import type { PolicyDocument } from '../types';
import { conditionProblem } from './conditions';

const MAX_POLICY_CHARS = 2048;

const isStringList = (v: unknown) =>
  typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));

/** Parses a policy document, throwing MalformedPolicyException with what is wrong. */
export function parsePolicyDocument(text: string): PolicyDocument {
  if (typeof text !== 'string' || text.trim() === '') throw malformedPolicy('Policy document is empty');
  if (text.replace(/\s+/g, '').length > MAX_POLICY_CHARS) {
    throw malformedPolicy(
      `Policy document is longer than ${MAX_POLICY_CHARS} characters (whitespace excluded)`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformedPolicy(`Policy document is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw malformedPolicy('Policy document must be a JSON object');
  }
  const statement = (doc as { Statement?: unknown }).Statement;
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  if (statements.length === 0) throw malformedPolicy('Policy document has no Statement');
  statements.forEach((s: unknown, i) => {
    const where = `Statement[${i}]`;
    if (typeof s !== 'object' || s === null) throw malformedPolicy(`${where} must be an object`);
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny')
      throw malformedPolicy(`${where}: Effect must be Allow or Deny`);
    if ((st.Action === undefined) === (st.NotAction === undefined)) {
      throw malformedPolicy(`${where}: exactly one of Action or NotAction is required`);
    }
    if ((st.Resource === undefined) === (st.NotResource === undefined)) {
      throw malformedPolicy(`${where}: exactly one of Resource or NotResource is required`);
    }
    for (const key of ['Action', 'NotAction', 'Resource', 'NotResource'] as const) {
      if (st[key] !== undefined && !isStringList(st[key])) {
        throw malformedPolicy(`${where}: ${key} must be a string or a non-empty list of strings`);
      }
    }
    if (st.Condition !== undefined) {
      if (typeof st.Condition !== 'object' || st.Condition === null || Array.isArray(st.Condition)) {
        throw malformedPolicy(`${where}: Condition must be an object`);
      }
      const problem = conditionProblem(st.Condition);
      if (problem) throw malformedPolicy(`${where}: ${problem}`);
    }
  });
  return doc as PolicyDocument;
}
