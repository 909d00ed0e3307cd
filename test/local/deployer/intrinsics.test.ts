import { describe, expect, it } from 'vitest';
import {
  type IntrinsicContext,
  IntrinsicError,
  references,
  resolve,
} from '../../../local/deployer/intrinsics';

const ctx: IntrinsicContext = {
  accountId: '000000000000',
  region: 'us-east-1',
  stackName: 'Zonectl-hq',
  stackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/Zonectl-hq/x',
  parameters: { BootstrapVersion: '/cdk-bootstrap/hnb659fds/version' },
  conditions: { IsLocal: true },
  resource: (id) =>
    id === 'Queue'
      ? {
          ref: 'http://127.0.0.1:4600/000000000000/q',
          attributes: { Arn: 'arn:aws:sqs:us-east-1:000000000000:q' },
        }
      : undefined,
};

describe('intrinsic functions', () => {
  it('resolves Ref to a resource, a parameter and a pseudo parameter', () => {
    expect(resolve({ Ref: 'Queue' }, ctx)).toBe('http://127.0.0.1:4600/000000000000/q');
    expect(resolve({ Ref: 'BootstrapVersion' }, ctx)).toBe('/cdk-bootstrap/hnb659fds/version');
    expect(resolve({ Ref: 'AWS::Region' }, ctx)).toBe('us-east-1');
  });

  it('resolves Fn::GetAtt in both forms', () => {
    expect(resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] }, ctx)).toBe('arn:aws:sqs:us-east-1:000000000000:q');
    expect(resolve({ 'Fn::GetAtt': 'Queue.Arn' }, ctx)).toBe('arn:aws:sqs:us-east-1:000000000000:q');
  });

  it('joins resolved values', () => {
    const value = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iot:', { Ref: 'AWS::Region' }]] };
    expect(resolve(value, ctx)).toBe('arn:aws:iot:us-east-1');
  });

  it('substitutes pseudo parameters, attributes and variables but leaves ${!literal} alone', () => {
    const value = { 'Fn::Sub': ['${AWS::AccountId}/${Queue.Arn}/${Name}/${!iot:ClientId}', { Name: 'n' }] };
    expect(resolve(value, ctx)).toBe('000000000000/arn:aws:sqs:us-east-1:000000000000:q/n/${iot:ClientId}');
  });

  it('selects from a split string', () => {
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['|', 'db|table'] }] }, ctx)).toBe('table');
  });

  it('drops properties set to AWS::NoValue through Fn::If', () => {
    expect(resolve({ A: { 'Fn::If': ['IsLocal', { Ref: 'AWS::NoValue' }, 1] }, B: 2 }, ctx)).toEqual({
      B: 2,
    });
  });

  it('names the resource when a reference cannot be resolved', () => {
    expect(() => resolve({ Ref: 'Missing' }, ctx, 'Fn.Properties')).toThrow(IntrinsicError);
    expect(() => resolve({ Ref: 'Missing' }, ctx, 'Fn.Properties')).toThrow(/'Missing' is not a resource/);
  });

  it('refuses an unsupported function by name', () => {
    expect(() => resolve({ 'Fn::ImportValue': 'x' }, ctx)).toThrow(/Fn::ImportValue is not supported/);
  });

  it('finds the logical ids a value refers to', () => {
    const refs = references({
      a: { Ref: 'A' },
      b: { 'Fn::GetAtt': ['B', 'Arn'] },
      c: { 'Fn::Sub': '${C.Arn}-${AWS::Region}' },
    });
    expect([...refs].sort()).toEqual(['A', 'B', 'C']);
  });
});
