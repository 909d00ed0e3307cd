/**
 * Topic rules of the AWS IoT message broker (AWS IoT Core developer guide, "MQTT topics" and
 * "AWS IoT Core message broker and protocol limits and quotas"), as pure functions.
 *
 * LIMITATIONS versus AWS: the limits are checked on the topic string the client sends; AWS
 * also limits topic filters of a persistent session and the number of subscriptions per
 * connection (50), which are not enforced here.
 */

/** Maximum topic (and topic filter) length in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 256;
/** Maximum number of forward slashes in a topic or topic filter, reserved prefixes excluded. */
export const MAX_TOPIC_SLASHES = 7;
/** Maximum PUBLISH payload size: 128 KB. */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
/** Maximum topic filters in one SUBSCRIBE packet. */
export const MAX_FILTERS_PER_SUBSCRIBE = 8;

/** Basic Ingest prefix: `$aws/rules/<ruleName>/`. */
export const BASIC_INGEST_PREFIX = '$aws/rules/';

/**
 * The part of a topic the slash limit applies to. AWS does not count the Basic Ingest prefix
 * `$aws/rules/<rule>/`, and the other reserved `$aws/...` topics have fixed shapes that AWS
 * defines itself, so only the Basic Ingest remainder and user topics are counted.
 */
function countedPart(topic: string): string | undefined {
  if (topic.startsWith(BASIC_INGEST_PREFIX)) {
    const rest = topic.slice(BASIC_INGEST_PREFIX.length);
    const slash = rest.indexOf('/');
    return slash < 0 ? '' : rest.slice(slash + 1);
  }
  if (topic.startsWith('$aws/')) return undefined;
  return topic;
}

/** Returns why a topic or topic filter breaks AWS's limits, or undefined when it is fine. */
export function topicLimitViolation(topic: string): string | undefined {
  if (topic.length === 0) return 'empty topic';
  // The MQTT parser decodes invalid UTF-8 as U+FFFD; MQTT 3.1.1 (1.5.3) makes such a topic
  // malformed, so a topic holding U+FFFD (never a useful topic) is refused as invalid UTF-8.
  if (topic.includes('\uFFFD')) return 'topic is not valid UTF-8';
  if (topic.includes('\u0000')) return 'topic contains U+0000';
  const bytes = Buffer.byteLength(topic, 'utf8');
  if (bytes > MAX_TOPIC_BYTES) return `topic is ${bytes} bytes; the limit is ${MAX_TOPIC_BYTES}`;
  const counted = countedPart(topic);
  if (counted !== undefined) {
    const slashes = counted.split('/').length - 1;
    if (slashes > MAX_TOPIC_SLASHES) {
      return `topic has ${slashes} forward slashes; the limit is ${MAX_TOPIC_SLASHES}`;
    }
  }
  return undefined;
}

/** A filter that names reserved topics no client may subscribe to (Basic Ingest). */
export function isUnsubscribableFilter(filter: string): boolean {
  return filter === '$aws/rules' || filter.startsWith(BASIC_INGEST_PREFIX);
}
