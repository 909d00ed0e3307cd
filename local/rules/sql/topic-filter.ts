/**
 * MQTT topic filters in FROM (AWS IoT developer guide, "Topic filters"): `+` matches exactly
 * one level, `#` is last and matches its own level and everything below, so `sensor/#`
 * matches `sensor/` and `sensor/a/b` but not `sensor`. As MQTT 3.1.1 section 4.7.2 says, a
 * filter starting with a wildcard does not match topics starting with `$`.
 */

/** Why a filter is invalid, or undefined if it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'the topic filter is empty';
  if (Buffer.byteLength(filter, 'utf8') > 256) return 'the topic filter is longer than 256 bytes';
  const levels = filter.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "'#' must be the whole last level of the topic filter";
    }
    if (level.includes('+') && level !== '+') return "'+' must be a whole level of the topic filter";
  }
  return undefined;
}
