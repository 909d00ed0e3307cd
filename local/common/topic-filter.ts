/**
 * MQTT topic filter matching, as the AWS IoT Core developer guide documents it ("MQTT topics",
 * topic filters) for the broker's subscriptions and a rule's FROM: `+` matches exactly one
 * level, `#` is last and matches its own level and everything below, so `sensor/#` matches
 * `sensor/` and `sensor/a/b` but not `sensor`. As MQTT 3.1.1 section 4.7.2 says, a filter that
 * starts with a wildcard does not match a topic that starts with `$`.
 *
 * A filter is compiled once into a matcher: the broker checks every accepted message against
 * each observer's filter, and the rules engine against each rule's, so the filter is split when
 * it is compiled and the topic is walked in place, never split.
 *
 * The filter is taken as given: checking that `#` is last and wildcards fill whole levels is
 * the caller's (the broker refuses such a SUBSCRIBE; the rules engine such a FROM).
 */

/** Whether a topic matches the filter the matcher was compiled from. */
export type TopicMatcher = (topic: string) => boolean;

const DOLLAR = 0x24;

export function compileTopicFilter(filter: string): TopicMatcher {
  const levels = filter.split('/');
  const last = levels.length - 1;
  const plus = levels.includes('+');
  const hash = levels.indexOf('#');
  if (!plus && hash < 0) return (topic) => topic === filter;
  if (!plus && hash === last) {
    if (last === 0) return (topic) => topic.charCodeAt(0) !== DOLLAR;
    // `a/b/#`: every topic under `a/b/`, and not `a/b` itself.
    const prefix = filter.slice(0, -1);
    return (topic) => topic.startsWith(prefix);
  }
  const guardDollar = levels[0] === '+' || levels[0] === '#';
  return (topic) => {
    if (guardDollar && topic.charCodeAt(0) === DOLLAR) return false;
    let start = 0; // where the topic's level i starts; past the end when it has no level i
    for (let i = 0; i <= last; i++) {
      if (start > topic.length) return false;
      const level = levels[i]!;
      if (level === '#') return true;
      let end = topic.indexOf('/', start);
      if (end < 0) end = topic.length;
      if (level !== '+' && (end - start !== level.length || !topic.startsWith(level, start))) return false;
      start = end + 1;
    }
    return start > topic.length;
  };
}

/** One-off match of a topic against a filter; compile the filter when it is used again. */
export function topicMatches(filter: string, topic: string): boolean {
  return compileTopicFilter(filter)(topic);
}
