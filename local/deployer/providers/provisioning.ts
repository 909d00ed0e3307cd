/**
 * AWS::IoT::ProvisioningTemplate (AWS CloudFormation Template Reference: `Ref` is the template
 * name, `Fn::GetAtt TemplateArn` its ARN; TemplateName and TemplateType need replacement)
 * created in the local provisioning service. A changed body becomes a new default version and
 * the older versions are deleted, as CloudFormation's update handler does with
 * CreateProvisioningTemplateVersion and DeleteProvisioningTemplateVersion.
 *
 * LIMITATIONS versus AWS: tags are stored, not served; a template without a TemplateName gets
 * the generated physical name, which AWS may refuse (more than 36 characters).
 */
import type { ProvisioningHookConfig } from '../../provisioning';
import type { ResourceProvider } from '../types';
import { type LocalServices, type Props, safe, str } from './shared';

export function provisioningProviders(s: LocalServices): Record<string, ResourceProvider> {
  const template: ResourceProvider = {
    async apply(req) {
      const p = req.properties;
      const templateName = str(p.TemplateName) ?? req.physicalName(36, '-');
      const hookProps = p.PreProvisioningHook as Props | undefined;
      const hook: ProvisioningHookConfig | undefined = hookProps
        ? {
            targetArn: str(hookProps.TargetArn) ?? '',
            payloadVersion: str(hookProps.PayloadVersion) ?? '2020-04-01',
          }
        : undefined;
      const enabled = p.Enabled === true || p.Enabled === 'true';
      const templateBody = str(p.TemplateBody) ?? '';
      const description = str(p.Description);
      const existing = safe(() => s.provisioning.describe(templateName));
      if (existing && existing.type !== (str(p.TemplateType) ?? 'FLEET_PROVISIONING')) {
        s.provisioning.delete(templateName);
      }
      const current = safe(() => s.provisioning.describe(templateName));
      if (!current) {
        const created = s.provisioning.create({
          templateName,
          templateBody,
          provisioningRoleArn: str(p.ProvisioningRoleArn) ?? '',
          enabled,
          ...(description !== undefined ? { description } : {}),
          ...(p.TemplateType ? { type: str(p.TemplateType) as 'FLEET_PROVISIONING' | 'JITP' } : {}),
          ...(hook ? { preProvisioningHook: hook } : {}),
          ...(Array.isArray(p.Tags) ? { tags: p.Tags as Array<{ Key: string; Value?: string }> } : {}),
        });
        return { ref: templateName, attributes: { TemplateArn: created.templateArn }, emulated: true };
      }
      const body = current.versions.find((v) => v.versionId === current.defaultVersionId)?.templateBody;
      if (body !== templateBody) {
        for (const old of current.versions.filter((v) => v.versionId !== current.defaultVersionId)) {
          s.provisioning.deleteVersion(templateName, old.versionId);
        }
        s.provisioning.createVersion(templateName, templateBody, true);
        s.provisioning.deleteVersion(templateName, current.defaultVersionId);
      }
      s.provisioning.update(templateName, {
        enabled,
        provisioningRoleArn: str(p.ProvisioningRoleArn) ?? current.provisioningRoleArn,
        ...(description !== undefined ? { description } : {}),
        ...(hook
          ? { preProvisioningHook: hook }
          : { removePreProvisioningHook: current.preProvisioningHook !== undefined }),
      });
      return { ref: templateName, attributes: { TemplateArn: current.templateArn }, emulated: true };
    },
    async remove(res) {
      safe(() => s.provisioning.delete(res.ref));
    },
  };
  return { 'AWS::IoT::ProvisioningTemplate': template };
}
