/**
 * Identifier rules shared by the building config, IoT thing names, thing attributes and
 * topic levels. Building and zone ids become topic levels and thing attribute values, so
 * they stay within characters that are legal in all three and never contain MQTT wildcards.
 */

/** Building and zone ids: lower-case letters, digits and hyphens, 1-32 characters. */
export const ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** Thing names: AWS allows [a-zA-Z0-9:_-]{1,128}; we also forbid ':' so names are safe topic levels. */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,128}$/;

/** IoT topic rule names: letters, digits and underscores only (no hyphens), 1-128 characters. */
export const RULE_NAME_PATTERN = /^[a-zA-Z0-9_]{1,128}$/;
