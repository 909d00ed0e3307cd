/**
 * Expected onboarding failures, each with one message that says what to do next. The command
 * prints `message` and exits 1 without a stack trace; anything else is a bug and is rethrown.
 */
export class OnboardError extends Error {
  override readonly name = 'OnboardError';
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** Up to `max` names closest to `name` (substring matches first). */
export function closeMatches(name: string, candidates: readonly string[], max = 3): string[] {
  const lower = name.toLowerCase();
  return [...candidates]
    .map((c) => ({
      c,
      d:
        c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())
          ? 0
          : distance(lower, c.toLowerCase()),
    }))
    .filter(({ c, d }) => d <= Math.max(3, Math.floor(c.length / 3)))
    .sort((x, y) => x.d - y.d)
    .slice(0, max)
    .map(({ c }) => c);
}

export interface AwsCallContext {
  /** What we were doing, e.g. "reading the certificate". */
  readonly action: string;
  /** The API endpoint in use, when not the AWS default. */
  readonly endpoint?: string;
  readonly local: boolean;
}

/** Maps AWS SDK and network errors to one actionable OnboardError; returns other errors unchanged. */
export function explainAwsError(err: unknown, ctx: AwsCallContext): Error {
  if (err instanceof OnboardError) return err;
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const name = e?.name ?? '';
  const code = e?.code ?? e?.cause?.code ?? '';
  const message = e?.message ?? String(err);
  const where = ctx.endpoint ?? 'AWS';
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new OnboardError(
      ctx.local
        ? `Cannot reach the local cloud at ${where} while ${ctx.action} (connection refused): start it with \`npx zonectl local up\` (in another terminal), or pass the --state-dir it uses.`
        : `Cannot reach ${where} while ${ctx.action} (connection refused): check AWS_ENDPOINT_URL and your network.`,
    );
  }
  if (['ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET'].includes(code) || name === 'TimeoutError') {
    return new OnboardError(
      `Cannot reach ${where} while ${ctx.action} (${code || name}): check the region (AWS_REGION), the endpoint and your network.`,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new OnboardError(
      'No AWS credentials found: run `aws configure` or `aws sso login` (or set AWS_PROFILE), then run this again. For the local cloud, add --local.',
    );
  }
  if (
    [
      'ExpiredTokenException',
      'ExpiredToken',
      'TokenRefreshRequired',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'InvalidSignatureException',
    ].includes(name) ||
    /token.*expired|expired.*token|security token included in the request is (invalid|expired)/i.test(message)
  ) {
    return new OnboardError(
      `Your AWS credentials were refused (${name || 'expired'}): refresh them (\`aws sso login\`, or new keys for AWS_PROFILE) and run this again.`,
    );
  }
  if (name === 'AccessDeniedException' || name === 'UnauthorizedException' || name === 'AccessDenied') {
    return new OnboardError(
      `AWS denied ${ctx.action} (${name}): use credentials allowed to call IoT (iot:DescribeCertificate, iot:DescribeEndpoint, iot:UpdateCertificate) and CloudFormation (cloudformation:DescribeStacks).`,
    );
  }
  if (/Region is missing/i.test(message)) {
    return new OnboardError(
      'No AWS region set: set AWS_REGION (or a region in your AWS profile) and run this again.',
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
