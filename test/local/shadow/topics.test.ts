/** The Device Shadow topic parsers: requests the service answers, responses its replay guard reads. */
import { describe, expect, it } from 'vitest';
import { parseShadowRequestTopic, parseShadowResponseTopic } from '../../../local/shadow/mqtt';

const PARSERS = {
  request: {
    parse: parseShadowRequestTopic,
    parsed: {
      '$aws/things/lobby/shadow/update': { thingName: 'lobby', operation: 'update' },
      '$aws/things/lobby/shadow/name/hvac/get': { thingName: 'lobby', shadowName: 'hvac', operation: 'get' },
    },
    refused: [
      '$aws/things/lobby/shadow/update/accepted',
      '$aws/things/lobby/shadow/list',
      '$aws/things/lobby/shadow/name/hvac',
      '$aws/things/lobby/shadow/name//get',
      '$aws/things//shadow/get',
      '$aws/things/lobby/jobs/get',
      'things/lobby/shadow/get',
    ],
  },
  response: {
    parse: parseShadowResponseTopic,
    parsed: {
      '$aws/things/lobby/shadow/update/delta': { thingName: 'lobby', suffix: 'update/delta' },
      '$aws/things/lobby/shadow/name/hvac/update/documents': {
        thingName: 'lobby',
        shadowName: 'hvac',
        suffix: 'update/documents',
      },
    },
    refused: [
      '$aws/things/lobby/shadow/update',
      '$aws/things/lobby/shadow/name/hvac/update',
      '$aws/things/lobby/shadow/name/hvac',
      '$aws/things/lobby/shadow/update/accepted/extra',
      '$aws/things/lobby/jobs/get/accepted',
    ],
  },
} as const;

describe('shadow topics', () => {
  it.each(Object.entries(PARSERS))(
    'parses the %s topics of classic and named shadows, and nothing else',
    (_, p) => {
      for (const [topic, parsed] of Object.entries(p.parsed)) expect(p.parse(topic), topic).toEqual(parsed);
      for (const topic of p.refused) expect(p.parse(topic), topic).toBeUndefined();
    },
  );
});
