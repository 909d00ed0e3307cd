/** A device bundle that cannot be read or is not what `zonectl onboard --finish` writes. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}
