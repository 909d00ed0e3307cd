/**
 * The local cloud's identity: one account and one region, as AWS would assign them.
 * Every ARN the local services mint goes through these helpers.
 */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

export interface CloudIdentity {
  readonly accountId: string;
  readonly region: string;
}

export const DEFAULT_IDENTITY: CloudIdentity = { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION };

export function arn(identity: CloudIdentity, service: string, resource: string): string {
  return `arn:aws:${service}:${identity.region}:${identity.accountId}:${resource}`;
}

export const iotArn = (identity: CloudIdentity, type: string, name: string) =>
  arn(identity, 'iot', `${type}/${name}`);
