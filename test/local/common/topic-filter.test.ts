import { describe, expect, it } from 'vitest';
import { compileTopicFilter, topicMatches } from '../../../local/common/topic-filter';

/** The definition, level by level on split strings: what the compiled matcher must agree with. */
function byDefinition(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return t.length > i;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('compileTopicFilter', () => {
  it.each([
    ['sensor/#', 'sensor/a/b', true],
    ['sensor/#', 'sensor/', true],
    ['sensor/#', 'sensor', false],
    ['sensor/#', 'sensors/a', false],
    ['#', 'a', true],
    ['#', '$aws/things/t/shadow/update', false],
    ['$aws/#', '$aws/things/t/shadow/update', true],
    ['+/temp', 'room/temp', true],
    ['+/temp', '$SYS/temp', false],
    ['+/temp', 'room/temp/x', false],
    ['+/temp', 'temp', false],
    ['a/+/c', 'a//c', true],
    ['a/+/c', 'a/b/c/', false],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+/#', 'a/b', false],
    ['a/+/#', 'a/b/', true],
    ['a/+/#', 'a/b/c/d', true],
    ['$aws/things/+/shadow/+', '$aws/things/t1/shadow/update', true],
    ['$aws/things/+/shadow/+', '$aws/things/t1/shadow/name/s/update', false],
    ['$aws/things/+/shadow/+', 'bench/t1', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/bc', false],
    ['a/bb/+', 'a/b/c', false],
  ])('%s against %s: %s', (filter, topic, expected) => {
    expect(compileTopicFilter(filter)(topic)).toBe(expected);
    expect(topicMatches(filter, topic)).toBe(expected);
    expect(byDefinition(filter, topic)).toBe(expected);
  });

  it('agrees with the definition on every filter and topic of up to four short levels', () => {
    const words = ['', 'a', 'b', '$a', 'ab'];
    const topics: string[] = [];
    const grow = (prefix: string[], depth: number) => {
      if (prefix.length > 0) topics.push(prefix.join('/'));
      if (depth === 0) return;
      for (const w of words) grow([...prefix, w], depth - 1);
    };
    grow([], 4);
    const filterLevels = ['a', 'b', '$a', '+'];
    const filters: string[] = [];
    const growFilter = (prefix: string[], depth: number) => {
      if (prefix.length > 0) {
        filters.push(prefix.join('/'));
        filters.push([...prefix, '#'].join('/'));
      }
      if (depth === 0) return;
      for (const l of filterLevels) growFilter([...prefix, l], depth - 1);
    };
    growFilter([], 3);
    filters.push('#');
    let checked = 0;
    for (const filter of filters) {
      const matcher = compileTopicFilter(filter);
      for (const topic of topics) {
        if (matcher(topic) !== byDefinition(filter, topic)) {
          throw new Error(`'${filter}' against '${topic}': expected ${byDefinition(filter, topic)}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100_000);
  });
});
