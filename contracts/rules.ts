import { RULE_NAME_PATTERN } from './ids';
import { TELEMETRY_TOPIC_LEVEL, telemetryTopicFilter } from './topics';

/**
 * Topic rules, each SQL statement paired with its SQL version. The version is always set:
 * CloudFormation treats an omitted AwsIotSqlVersion as 2015-10-08, which lacks literals,
 * nested attributes with get(), and more.
 */
export const IOT_SQL_VERSION = '2016-03-23' as const;

export interface RuleSql {
  readonly sql: string;
  readonly awsIotSqlVersion: typeof IOT_SQL_VERSION;
}

const sql = (statement: string): RuleSql => ({ sql: statement, awsIotSqlVersion: IOT_SQL_VERSION });
const L = TELEMETRY_TOPIC_LEVEL;

/**
 * Ingest path: every message, whatever its payload, to the ingest queue: the payload in base64
 * plus its address from the topic, the client id and the receive time (IngestEnvelopeSchema).
 * The payload is encoded rather than selected with `*, ...` because AWS IoT adds fields to `*`
 * only for an empty or JSON object payload; any other payload (binary, a JSON string, an array)
 * would fail the SQL, run no action and no errorAction, and be lost after its PUBACK (AWS IoT
 * developer guide, "Working with binary payloads" and "Error handling (error action)"). The
 * ingest function parses the payload and dead-letters what is not a reading message. The topic
 * is trustworthy because the IoT policy lets a thing publish only on its own topic; the filter
 * names the building, so a building's rule never sees another building's readings.
 */
export function ingestRule(buildingId: string): RuleSql {
  return sql(
    `SELECT encode(*, 'base64') AS base64Payload, topic(${L.building}) AS building, topic(${L.zone}) AS zone, ` +
      `topic(${L.thing}) AS thing, clientid() AS clientId, timestamp() AS receivedAt FROM '${telemetryTopicFilter(buildingId)}'`,
  );
}

/** Marks a control event (the control rule's output), so a dead letter of the control path is known as one. */
export const CONTROL_EVENT_KIND = 'zonectl.control' as const;

/**
 * Control path: just what the zone controller needs, for the zones of its own building, to the
 * control queue; the controller takes the queue in batches and decides once per zone of a batch.
 * A payload that is not a JSON object (binary, empty, a JSON string or array) has no `readings`,
 * so the WHERE clause is false and the rule simply does not match: no action, no error (AWS IoT
 * developer guide, "Working with binary payloads": a WHERE clause may refer to fields of a
 * binary payload). Such a message is dead-lettered by the ingest path.
 */
export function controlRule(buildingId: string): RuleSql {
  return sql(
    `SELECT '${CONTROL_EVENT_KIND}' AS kind, topic(${L.building}) AS building, topic(${L.zone}) AS zone, ` +
      `topic(${L.thing}) AS thing, readings FROM '${telemetryTopicFilter(buildingId)}' WHERE isUndefined(readings) = false`,
  );
}

/** Rule names must match [a-zA-Z0-9_]+; building ids contain '-', so they are mapped. */
export function ruleName(buildingId: string, purpose: 'ingest' | 'control'): string {
  const name = `zonectl_${buildingId.replace(/-/g, '_')}_${purpose}`;
  if (!RULE_NAME_PATTERN.test(name))
    throw new Error(`cannot form a valid rule name from building id '${buildingId}'`);
  return name;
}

/** What a rule named by `ruleName` is for, or undefined for a name it does not form. */
export function rulePurposeOf(name: string): 'ingest' | 'control' | undefined {
  const m = /^zonectl_\w+_(ingest|control)$/.exec(name);
  return m ? (m[1] as 'ingest' | 'control') : undefined;
}
