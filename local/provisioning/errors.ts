/**
 * Errors of the provisioning control plane (AWS IoT API Reference, CreateProvisioningTemplate,
 * DescribeProvisioningTemplate, UpdateProvisioningTemplate, DeleteProvisioningTemplate,
 * CreateProvisioningTemplateVersion, DeleteProvisioningTemplateVersion: their errors and HTTP
 * status codes), and the rejections of the MQTT provisioning API ("Device provisioning MQTT
 * API": `{statusCode, errorCode, errorMessage}`).
 */
import { AwsServiceError } from '../common';

export { invalidRequest, resourceNotFound, unknownOperation } from '../common';

export const resourceAlreadyExists = (message: string, resourceId: string, resourceArn: string) =>
  new AwsServiceError('ResourceAlreadyExistsException', 409, message, { resourceId, resourceArn });
export const deleteConflict = (message: string) =>
  new AwsServiceError('DeleteConflictException', 409, message);
export const versionsLimitExceeded = (message: string) =>
  new AwsServiceError('VersionsLimitExceededException', 409, message);

/**
 * A rejection on a provisioning `.../rejected` topic. Only `InvalidCertificateOwnershipToken`
 * (400) is confirmed from a real rejection; the other codes are this emulator's choice.
 */
export class ProvisioningRejection extends Error {
  override readonly name = 'ProvisioningRejection';
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }

  toResponse(): { statusCode: number; errorCode: string; errorMessage: string } {
    return { statusCode: this.statusCode, errorCode: this.errorCode, errorMessage: this.message };
  }
}

export const rejection = {
  badPayload: (message: string) => new ProvisioningRejection(400, 'InvalidPayload', message),
  badCsr: (message: string) => new ProvisioningRejection(400, 'InvalidCsr', message),
  badToken: (message: string) => new ProvisioningRejection(400, 'InvalidCertificateOwnershipToken', message),
  notFound: (message: string) => new ProvisioningRejection(404, 'ResourceNotFound', message),
  /** The hook refused, failed or timed out: AWS says only that the request was denied. */
  accessDenied: (message: string) => new ProvisioningRejection(403, 'AccessDenied', message),
  parameters: (message: string) => new ProvisioningRejection(400, 'InvalidParameters', message),
  template: (message: string) => new ProvisioningRejection(400, 'InvalidTemplate', message),
  conflict: (message: string) => new ProvisioningRejection(409, 'ResourceConflict', message),
  internal: () => new ProvisioningRejection(500, 'InternalFailure', 'Internal failure'),
  format: () =>
    new ProvisioningRejection(
      400,
      'UnsupportedPayloadFormat',
      'The local cloud serves the json payload format only',
    ),
};
