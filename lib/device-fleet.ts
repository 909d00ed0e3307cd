import { CfnDeletionPolicy, CfnOutput, type CfnResource } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import {
  type BuildingConfig,
  certificateOutputKey,
  csrFileName,
  type DevicePlacement,
  devicesOf,
  thingAttributesOf,
} from '../contracts';

/** Stack output key holding a thing's certificate ARN (the ARN twin of `certificateOutputKey`). */
export const certificateArnOutputKey = (thing: string): string =>
  certificateOutputKey(thing).replace(/Id$/, 'Arn');

const CSR_PEM = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----/;
/** CreateCertificateFromCsr accepts a CSR of at most 4096 characters. */
const MAX_CSR_CHARS = 4096;

export interface DeviceFleetProps {
  /** The building whose devices become things. */
  readonly config: BuildingConfig;
  /** Name of the IoT policy attached to every device certificate. */
  readonly policyName: string;
  /** The policy resource, so attachments wait for it. @default - no explicit dependency */
  readonly policy?: iot.CfnPolicy;
  /**
   * Certificate signing requests (PEM) by thing name, as onboarding wrote them. A thing with
   * one gets an ACTIVE certificate attached to it and to the policy; a thing without one gets
   * none. @default - no certificates
   */
  readonly csrPems?: Readonly<Record<string, string>>;
}

export interface DeviceCertificate {
  readonly certificate: iot.CfnCertificate;
  readonly certificateId: string;
  readonly certificateArn: string;
}

/**
 * One AWS::IoT::Thing per device, with the building/zone/kind attributes the IoT policy reads,
 * and for each thing that has a CSR a certificate (CreateCertificateFromCsr semantics: the
 * private key never leaves the operator's machine) attached to the thing and the policy.
 * Outputs each certificate's id and ARN, which an operator needs to fetch the signed certificate.
 */
export class DeviceFleet extends Construct {
  public readonly things: Readonly<Record<string, iot.CfnThing>>;
  public readonly certificates: Readonly<Record<string, DeviceCertificate>>;
  public readonly devices: readonly DevicePlacement[];

  constructor(scope: Construct, id: string, props: DeviceFleetProps) {
    super(scope, id);
    this.devices = devicesOf(props.config);
    const csrPems = props.csrPems ?? {};
    validate(this, this.devices, csrPems);

    const things: Record<string, iot.CfnThing> = {};
    const certificates: Record<string, DeviceCertificate> = {};
    for (const device of this.devices) {
      const thing = new iot.CfnThing(this, `Thing-${device.thing}`, {
        thingName: device.thing,
        attributePayload: {
          attributes: thingAttributesOf(device),
        },
      });
      things[device.thing] = thing;

      const csr = csrPems[device.thing];
      if (csr === undefined) continue;
      const certificate = new iot.CfnCertificate(this, `Certificate-${device.thing}`, {
        certificateSigningRequest: csr,
        status: 'ACTIVE',
      });
      const thingAttachment = new iot.CfnThingPrincipalAttachment(this, `ThingAttachment-${device.thing}`, {
        thingName: device.thing,
        principal: certificate.attrArn,
      });
      thingAttachment.addResourceDependency(thing);
      const policyAttachment = new iot.CfnPolicyPrincipalAttachment(
        this,
        `PolicyAttachment-${device.thing}`,
        {
          policyName: props.policyName,
          principal: certificate.attrArn,
        },
      );
      if (props.policy) policyAttachment.addResourceDependency(props.policy);
      // Rotation (`onboard --rotate`, deploy) changes the CSR, which replaces the certificate and
      // with it both attachments (CertificateSigningRequest and Principal: "Update requires:
      // Replacement", AWS::IoT::Certificate / ThingPrincipalAttachment / PolicyPrincipalAttachment
      // in the CloudFormation User Guide). By default CloudFormation deletes the old ones in the
      // update's cleanup, cutting off a device that still holds the old bundle. UpdateReplacePolicy
      // Retain keeps the old certificate ACTIVE, attached to its thing and the policy, until the
      // operator retires it (`onboard --retire-previous`) once the device has switched; deleting the
      // stack still deletes them (DeletionPolicy stays Delete). CloudFormation User Guide,
      // "UpdateReplacePolicy attribute".
      for (const r of [certificate, thingAttachment, policyAttachment] as CfnResource[]) {
        r.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.RETAIN;
      }

      new CfnOutput(this, `CertificateId-${device.thing}`, {
        key: certificateOutputKey(device.thing),
        value: certificate.attrId,
        description: `Certificate id of ${device.thing} (aws iot describe-certificate --certificate-id)`,
      });
      new CfnOutput(this, `CertificateArn-${device.thing}`, {
        key: certificateArnOutputKey(device.thing),
        value: certificate.attrArn,
        description: `Certificate ARN of ${device.thing}`,
      });
      certificates[device.thing] = {
        certificate,
        certificateId: certificate.attrId,
        certificateArn: certificate.attrArn,
      };
    }
    this.things = things;
    this.certificates = certificates;
  }
}

function validate(
  scope: Construct,
  devices: readonly DevicePlacement[],
  csrPems: Readonly<Record<string, string>>,
) {
  const names = new Set(devices.map((d) => d.thing));
  for (const [thing, pem] of Object.entries(csrPems)) {
    if (!names.has(thing)) {
      throw new Error(
        `${scope.node.path}: there is a CSR for '${thing}', which is not a device of this building; add the device to the building config or remove ${csrFileName(thing)}`,
      );
    }
    if (!CSR_PEM.test(pem)) {
      throw new Error(
        `${scope.node.path}: the CSR of '${thing}' (${csrFileName(thing)}) is not a PEM certificate request; run onboarding for '${thing}' again`,
      );
    }
    if (pem.length > MAX_CSR_CHARS) {
      throw new Error(
        `${scope.node.path}: the CSR of '${thing}' has ${pem.length} characters, over AWS IoT's ${MAX_CSR_CHARS}; use an RSA-2048 or EC P-256 key`,
      );
    }
  }
  const byKey = new Map<string, string>();
  for (const d of devices) {
    const key = certificateOutputKey(d.thing);
    const other = byKey.get(key);
    if (other !== undefined) {
      throw new Error(
        `${scope.node.path}: things '${other}' and '${d.thing}' share the stack output key '${key}'; rename one so their letters and digits differ`,
      );
    }
    byKey.set(key, d.thing);
  }
}
