/**
 * The device policy the project deploys: a thing connects only as itself, publishes only its
 * own readings (topic built from thing attributes and name), and uses only its own command
 * shadow. Built from contracts so the resources match the deployed policy.
 */
import { COMMAND_SHADOW_NAME, shadowTopicPrefix, TELEMETRY_TOPIC_POLICY_TEMPLATE } from '../../contracts';
import { type CloudIdentity, DEFAULT_IDENTITY, iotArn } from '../../local/common/account';
import type { PolicyDocument } from '../../local/iot/types';

// biome-ignore lint/suspicious/noTemplateCurlyInString: an IoT policy variable, not a JS template
const THING = '${iot:Connection.Thing.ThingName}';

export function devicePolicy(identity: CloudIdentity = DEFAULT_IDENTITY): PolicyDocument {
  const shadow = shadowTopicPrefix(THING, COMMAND_SHADOW_NAME);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: iotArn(identity, 'client', THING),
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [
          iotArn(identity, 'topic', TELEMETRY_TOPIC_POLICY_TEMPLATE),
          iotArn(identity, 'topic', `${shadow}/get`),
          iotArn(identity, 'topic', `${shadow}/update`),
        ],
      },
      { Effect: 'Allow', Action: 'iot:Subscribe', Resource: iotArn(identity, 'topicfilter', `${shadow}/*`) },
      { Effect: 'Allow', Action: 'iot:Receive', Resource: iotArn(identity, 'topic', `${shadow}/*`) },
    ],
  };
}

/** A broad policy for an operator application in tests: everything, everywhere. */
export const allowAllPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
};
