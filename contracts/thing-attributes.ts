/** Attribute names on every AWS::IoT::Thing; the IoT policy reads them as policy variables. */
export const THING_ATTRIBUTE = {
  building: 'building',
  zone: 'zone',
  kind: 'kind',
} as const;

/** A thing's kind attribute: what it does in the building. */
export const THING_KINDS = ['sensor', 'actuator', 'sensor-actuator'] as const;
export type ThingKind = (typeof THING_KINDS)[number];
