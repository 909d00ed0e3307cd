/** A CSR whose signature does not verify, for the refusal tests; CSRs themselves come from contracts/pki. */
import { PEM_LABEL, pemDecode, pemEncode } from '../../../contracts/pki';

/** The same CSR with one byte of its signature flipped. */
export function tamperSignature(csrPem: string): string {
  const der = pemDecode(csrPem, PEM_LABEL.csr);
  const last = der.length - 5;
  der[last] = (der[last] ?? 0) ^ 0xff;
  return pemEncode(der, PEM_LABEL.csr);
}
