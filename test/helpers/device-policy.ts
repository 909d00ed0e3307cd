/**
 * IoT policies for tests. `devicePolicy` is the document the CDK stack deploys
 * (contracts/device-policy.ts), with the local cloud's ARNs: the broker tests enforce exactly
 * what AWS gets, and test/lib checks the synthesized template resolves to the same document.
 */
import { devicePolicyDocument } from '../../contracts';
import { arn, type CloudIdentity, DEFAULT_IDENTITY } from '../../local/common/account';
import type { PolicyDocument } from '../../local/iot/types';

export function devicePolicy(identity: CloudIdentity = DEFAULT_IDENTITY): PolicyDocument {
  return devicePolicyDocument((resource) => arn(identity, 'iot', resource));
}

/** A broad policy for an operator application in tests: everything, everywhere. */
export const allowAllPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }],
};
