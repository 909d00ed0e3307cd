/** The Device Shadow topic parsers: requests the service answers, responses its replay guard reads. */
import { describe, expect, it } from 'vitest';
import { parseShadowRequestTopic, parseShadowResponseTopic } from '../../../local/shadow/mqtt';

describe('shadow topics', () => {
  it('parses the request topics of classic and named shadows, and nothing else', () => {
    expect(parseShadowRequestTopic('$aws/things/lobby/shadow/update')).toEqual({
      thingName: 'lobby',
      operation: 'update',
    });
    expect(parseShadowRequestTopic('$aws/things/lobby/shadow/name/hvac/get')).toEqual({
      thingName: 'lobby',
      shadowName: 'hvac',
      operation: 'get',
    });
    for (const topic of [
      '$aws/things/lobby/shadow/update/accepted',
      '$aws/things/lobby/shadow/list',
      '$aws/things/lobby/shadow/name/hvac',
      '$aws/things/lobby/shadow/name//get',
      '$aws/things//shadow/get',
      '$aws/things/lobby/jobs/get',
      'things/lobby/shadow/get',
    ]) {
      expect(parseShadowRequestTopic(topic), topic).toBeUndefined();
    }
  });

  it('parses the response topics of classic and named shadows, and nothing else', () => {
    expect(parseShadowResponseTopic('$aws/things/lobby/shadow/update/delta')).toEqual({
      thingName: 'lobby',
      suffix: 'update/delta',
    });
    expect(parseShadowResponseTopic('$aws/things/lobby/shadow/name/hvac/update/documents')).toEqual({
      thingName: 'lobby',
      shadowName: 'hvac',
      suffix: 'update/documents',
    });
    for (const topic of [
      '$aws/things/lobby/shadow/update',
      '$aws/things/lobby/shadow/name/hvac/update',
      '$aws/things/lobby/shadow/name/hvac',
      '$aws/things/lobby/shadow/update/accepted/extra',
      '$aws/things/lobby/jobs/get/accepted',
    ]) {
      expect(parseShadowResponseTopic(topic), topic).toBeUndefined();
    }
  });
});
