/**
 * What the certificate authority refuses: a certificate signing request that
 * CreateCertificateFromCsr would refuse, answered with InvalidRequestException (AWS IoT API
 * Reference, "CreateCertificateFromCsr" > Errors).
 */
import { invalidRequest } from '../common';

export const invalidCsr = (message: string) => invalidRequest(message);
