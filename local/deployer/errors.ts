/**
 * Why a deploy stops: a cloud assembly that cannot be read, a template value that cannot be
 * resolved, or a resource on the data path that cannot be created. Each names the stack,
 * logical id or file and the reason.
 */

/** The cloud assembly (manifest, templates, assets) cannot be read. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
}

/** An intrinsic function or reference in a template cannot be resolved. */
export class IntrinsicError extends Error {
  override readonly name = 'IntrinsicError';
}

/** A resource cannot be deployed; the message names `<stack>/<logicalId>` and why. */
export class DeployError extends Error {
  override readonly name = 'DeployError';
}
