/** Attribute names on every AWS::IoT::Thing; the IoT policy reads them as policy variables. */
export const THING_ATTRIBUTE = {
  building: 'building',
  zone: 'zone',
  kind: 'kind',
} as const;

/** A thing's kind attribute: what it does in the building. */
export const THING_KINDS = ['sensor', 'actuator', 'sensor-actuator'] as const;
export type ThingKind = (typeof THING_KINDS)[number];

/** A thing's attributes as CreateThing and AWS::IoT::Thing take them (`attributePayload.attributes`). */
export function thingAttributesOf(device: {
  readonly building: string;
  readonly zone: string;
  readonly kind: ThingKind;
}): Record<string, string> {
  return {
    [THING_ATTRIBUTE.building]: device.building,
    [THING_ATTRIBUTE.zone]: device.zone,
    [THING_ATTRIBUTE.kind]: device.kind,
  };
}
