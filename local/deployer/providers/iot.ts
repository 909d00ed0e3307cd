/**
 * IoT resources of a template (AWS CloudFormation User Guide: AWS::IoT::Thing, AWS::IoT::Policy,
 * AWS::IoT::Certificate, AWS::IoT::ThingPrincipalAttachment, AWS::IoT::PolicyPrincipalAttachment,
 * AWS::IoT::TopicRule; `Ref` and `Fn::GetAtt` as each page gives them) created in the local IoT
 * registry, and topic rules put in the rules engine too.
 *
 * LIMITATIONS versus AWS: only certificates made from a CertificateSigningRequest; a changed
 * IoT policy document cannot be stored (AWS would create a new policy version) and fails the
 * deploy.
 */
import type { IotRegistry } from '../../iot';
import { normaliseTopicRulePayload } from '../../rules';
import type { ApplyRequest, ResourceProvider } from '../types';
import { hashText, type LocalServices, type Props, safe, str } from './shared';

export function iotProviders(s: LocalServices): Record<string, ResourceProvider> {
  const thing: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const thingName = str(p.ThingName) ?? req.physicalName(128);
      const attributes = ((p.AttributePayload as Props | undefined)?.Attributes ?? {}) as Record<
        string,
        string
      >;
      const existing = safe(() => s.iot.describeThing(thingName));
      if (existing) s.iot.updateThing({ thingName, attributes });
      const created = existing ? existing : s.iot.createThing({ thingName, attributes });
      return { ref: thingName, attributes: { Arn: created.thingArn, Id: created.thingId }, emulated: true };
    },
    async remove(res) {
      safe(() => s.iot.deleteThing(res.ref));
    },
  };

  const policy: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const policyName = str(p.PolicyName) ?? req.physicalName(128);
      const document = JSON.stringify(p.PolicyDocument);
      const existing = safe(() => s.iot.getPolicy(policyName));
      if (existing && existing.policyDocument !== document) {
        replacePolicyDocument(s.iot, policyName, document);
      } else if (!existing) {
        s.iot.createPolicy(policyName, document);
      }
      const stored = s.iot.getPolicy(policyName);
      return { ref: policyName, attributes: { Arn: stored.policyArn, Id: policyName }, emulated: true };
    },
    async remove(res) {
      safe(() => s.iot.deletePolicy(res.ref));
    },
  };

  const certificate: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const status = str(p.Status) ?? 'INACTIVE';
      const prev = req.previous ? safe(() => s.iot.describeCertificate(req.previous!.ref)) : undefined;
      const sameCsr = prev && req.previous?.attributes.csr === hashText(str(p.CertificateSigningRequest));
      if (prev && sameCsr) {
        // As CloudFormation, an unchanged resource is left alone: a certificate an operator
        // revoked or deactivated since the last deploy stays so. A revoked one never returns.
        if (!req.unchanged && prev.status !== status && prev.status !== 'REVOKED') {
          s.iot.updateCertificate(prev.certificateId, status);
        }
        return {
          ref: prev.certificateId,
          attributes: { Arn: prev.certificateArn, Id: prev.certificateId, csr: req.previous!.attributes.csr },
          emulated: true,
        };
      }
      const csr = str(p.CertificateSigningRequest);
      if (!csr) {
        throw new Error('only certificates from a CertificateSigningRequest can be created locally');
      }
      const created = await s.iot.createCertificateFromCsr(csr, status === 'ACTIVE');
      if (prev && !req.retainOnReplace) {
        // CloudFormation replaces a certificate whose CSR changed and deletes the old one, unless
        // its UpdateReplacePolicy is Retain (then it stays as it was, outside the stack).
        safe(() => s.iot.updateCertificate(prev.certificateId, 'INACTIVE'));
      }
      return {
        ref: created.certificateId,
        attributes: { Arn: created.certificateArn, Id: created.certificateId, csr: hashText(csr) },
        emulated: true,
      };
    },
    async remove(res) {
      safe(() => s.iot.updateCertificate(res.ref, 'INACTIVE'));
    },
  };

  const thingPrincipal: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const thingName = str(p.ThingName)!;
      const principal = str(p.Principal)!;
      if (req.previous && !req.unchanged && !retainedOnReplace(req, principal)) {
        detachThing(s.iot, req.previous.attributes);
      }
      const type = (str(p.ThingPrincipalType) ?? 'NON_EXCLUSIVE_THING') as
        | 'EXCLUSIVE_THING'
        | 'NON_EXCLUSIVE_THING';
      s.iot.attachThingPrincipal(thingName, principal, type);
      return { ref: `${thingName}|${principal}`, attributes: { thingName, principal }, emulated: true };
    },
    async remove(res) {
      detachThing(s.iot, res.attributes);
    },
  };

  const policyPrincipal: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const policyName = str(p.PolicyName)!;
      const principal = str(p.Principal)!;
      if (req.previous && !req.unchanged && !retainedOnReplace(req, principal)) {
        detachPolicy(s.iot, req.previous.attributes);
      }
      s.iot.attachPolicy(policyName, principal);
      return { ref: `${policyName}|${principal}`, attributes: { policyName, principal }, emulated: true };
    },
    async remove(res) {
      detachPolicy(s.iot, res.attributes);
    },
  };

  const topicRule: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const ruleName = str(p.RuleName) ?? req.physicalName(128, '_');
      const payload = normaliseTopicRulePayload(p.TopicRulePayload);
      // The engine validates SQL and actions first, so an unsupported rule fails the deploy.
      s.rules.putRule(ruleName, payload);
      const exists = safe(() => s.iot.getTopicRule(ruleName));
      const record = exists
        ? s.iot.replaceTopicRule(ruleName, payload)
        : s.iot.createTopicRule(ruleName, payload);
      return { ref: ruleName, attributes: { Arn: record.ruleArn }, emulated: true };
    },
    async remove(res) {
      s.rules.deleteRule(res.ref);
      safe(() => s.iot.deleteTopicRule(res.ref));
    },
  };

  return {
    'AWS::IoT::Thing': thing,
    'AWS::IoT::Policy': policy,
    'AWS::IoT::Certificate': certificate,
    'AWS::IoT::ThingPrincipalAttachment': thingPrincipal,
    'AWS::IoT::PolicyPrincipalAttachment': policyPrincipal,
    'AWS::IoT::TopicRule': topicRule,
  };
}

function detachThing(iot: IotRegistry, attrs: Readonly<Record<string, unknown>>): void {
  safe(() => iot.detachThingPrincipal(String(attrs.thingName), String(attrs.principal)));
}

function detachPolicy(iot: IotRegistry, attrs: Readonly<Record<string, unknown>>): void {
  safe(() => iot.detachPolicy(String(attrs.policyName), String(attrs.principal)));
}

function replacePolicyDocument(iot: IotRegistry, policyName: string, document: string): void {
  const registry = iot as IotRegistry & { replacePolicyDocument?: (name: string, doc: string) => void };
  if (!registry.replacePolicyDocument) {
    throw new Error(
      `IoT policy ${policyName} changed, and the local registry cannot store a new version of it`,
    );
  }
  registry.replacePolicyDocument(policyName, document);
}

/**
 * An attachment whose principal changed is replaced (Principal: "Update requires: Replacement");
 * with UpdateReplacePolicy Retain the old attachment stays, so the old certificate keeps its
 * thing and policy.
 */
function retainedOnReplace(req: ApplyRequest, principal: string): boolean {
  return req.retainOnReplace === true && req.previous?.attributes.principal !== principal;
}
