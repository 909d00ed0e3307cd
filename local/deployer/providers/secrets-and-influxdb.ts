/**
 * AWS::SecretsManager::Secret (with SecretString or GenerateSecretString; `Ref` is the ARN)
 * and AWS::Timestream::InfluxDBInstance (AWS CloudFormation Template Reference: `Ref` is the
 * instance id; Fn::GetAtt Arn, Endpoint, Id, InfluxAuthParametersSecretArn, Status,
 * AvailabilityZone) created in the local Secrets Manager and the local Timestream for
 * InfluxDB. A redeploy keeps a secret's value and an instance's data.
 *
 * LIMITATIONS versus AWS: an instance is not replaced when a create-only property changes
 * (name, organization, bucket, user, password); its VPC settings have no local effect.
 */
import type { ResourceProvider } from '../types';
import { type LocalServices, num, type Props, str } from './shared';

export function secretsAndInfluxProviders(s: LocalServices): Record<string, ResourceProvider> {
  const secret: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const name = str(p.Name) ?? req.physicalName(64);
      const generate = p.GenerateSecretString as Props | undefined;
      const record = s.secrets.createSecret({
        name,
        ...(typeof p.Description === 'string' ? { description: p.Description } : {}),
        secretString: str(p.SecretString) ?? s.secrets.generate(generate ?? {}),
      });
      return { ref: record.arn, attributes: { Id: record.arn }, emulated: true };
    },
    async remove(res) {
      s.secrets.deleteSecret(res.ref);
    },
  };

  const instance: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const info = await s.influxdb.createInstance({
        name: str(p.Name) ?? req.physicalName(40),
        username: str(p.Username) ?? 'admin',
        password: str(p.Password) ?? '',
        organization: str(p.Organization) ?? 'default',
        bucket: str(p.Bucket) ?? 'default',
        port: num(p.Port) ?? 8086,
        ...(str(p.DbInstanceType) ? { dbInstanceType: str(p.DbInstanceType)! } : {}),
        ...(num(p.AllocatedStorage) !== undefined ? { allocatedStorage: num(p.AllocatedStorage)! } : {}),
        ...(str(p.DeploymentType) ? { deploymentType: str(p.DeploymentType)! } : {}),
      });
      return {
        ref: info.id,
        attributes: {
          Arn: info.arn,
          Id: info.id,
          Endpoint: info.endpoint,
          Status: info.status,
          InfluxAuthParametersSecretArn: info.influxAuthParametersSecretArn,
          AvailabilityZone: `${s.identity.region}a`,
        },
        emulated: true,
        note: 'its VPC, subnets and security groups are not emulated',
      };
    },
    async remove(res) {
      const found = s.influxdb.listInstances().find((i) => i.id === res.ref);
      if (found) await s.influxdb.deleteInstance(found.name);
    },
  };

  return { 'AWS::SecretsManager::Secret': secret, 'AWS::Timestream::InfluxDBInstance': instance };
}
