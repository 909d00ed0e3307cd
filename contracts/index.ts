/**
 * The contracts every layer shares. contracts/pki.ts is imported by path, not from here: it loads
 * @peculiar/x509, which the Lambda bundles must not carry.
 */
export * from './building';
export * from './control';
export * from './dead-letter';
export * from './device-policy';
export * from './env';
export * from './ids';
export * from './local-endpoints';
export * from './measures';
export * from './metrics';
export * from './paths';
export * from './provisioning';
export * from './regions';
export * from './rules';
export * from './schedule';
export * from './shadow';
export * from './stack';
export * from './telemetry';
export * from './thing-attributes';
export * from './topics';
export * from './validation';
