import { Aws, Fn } from 'aws-cdk-lib';

/**
 * Physical names that never collide with what an earlier stack of the same name left behind.
 *
 * A resource kept on delete (DeletionPolicy Retain) keeps its name after `cdk destroy`; a new
 * stack that asks for the same fixed name then fails with "already exists". The stack id is
 * `arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>` (AWS CloudFormation
 * User Guide, "Pseudo parameters reference", AWS::StackId), and the UUID is new for every
 * stack created, so its first group (8 hex digits) gives each stack its own names while a
 * stack update keeps them.
 */
export function stackUniqueSuffix(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/** `<prefix>-<8 hex digits of the stack id>`, resolved by CloudFormation at deploy time. */
export function stackUniqueName(prefix: string): string {
  return Fn.join('-', [prefix, stackUniqueSuffix()]);
}
