/**
 * Things and their attributes (AWS IoT API Reference, "CreateThing", "DescribeThing",
 * "ListThings", "UpdateThing", "DeleteThing"; quotas from "AWS IoT Core endpoints and quotas":
 * at most 50 attributes a thing). CreateThing of an existing thing with the same settings is a
 * no-op; with other settings ResourceAlreadyExistsException. Deleting a missing thing succeeds.
 */
import { randomUUID } from 'node:crypto';
import { invalidRequest, resourceAlreadyExists, resourceNotFound, versionConflict } from '../errors';
import { type Page, paginate } from '../pagination';
import { type RegistryStore, sortBy } from '../store';
import type { ListThingsFilter, ThingInput, ThingRecord, ThingUpdate } from '../types';

const MAX_ATTRIBUTES = 50;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const ATTRIBUTE_NAME = /^[a-zA-Z0-9_.,@/:#=[\]-]{1,128}$/;
const ATTRIBUTE_VALUE = /^[a-zA-Z0-9_.,@/:#=[\]-]{0,800}$/;

export class Things {
  constructor(private readonly store: RegistryStore) {}

  byName(thingName: string): ThingRecord | undefined {
    return this.store.things.get(thingName);
  }

  create(input: ThingInput): { thingName: string; thingArn: string; thingId: string } {
    const { thingName } = input;
    if (!THING_NAME.test(thingName ?? '')) throw invalidRequest(`Invalid thing name: ${thingName}`);
    const attributes = checkAttributes(input.attributes ?? {});
    const existing = this.store.things.get(thingName);
    if (existing) {
      const same =
        (existing.thingTypeName ?? undefined) === (input.thingTypeName ?? undefined) &&
        JSON.stringify(sortedEntries(existing.attributes)) === JSON.stringify(sortedEntries(attributes));
      if (!same) {
        throw resourceAlreadyExists(
          `Thing ${thingName} already exists in account with different attributes`,
          existing.thingId,
          existing.thingArn,
        );
      }
      return { thingName, thingArn: existing.thingArn, thingId: existing.thingId };
    }
    const thing: ThingRecord = {
      thingName,
      thingArn: this.store.arn('thing', thingName),
      thingId: randomUUID(),
      ...(input.thingTypeName ? { thingTypeName: input.thingTypeName } : {}),
      attributes,
      version: 1,
    };
    this.store.things.put(thingName, thing);
    this.store.emit({ type: 'thing-changed', thingName });
    return { thingName, thingArn: thing.thingArn, thingId: thing.thingId };
  }

  describe(thingName: string): ThingRecord {
    const thing = this.store.things.get(thingName);
    if (!thing) throw resourceNotFound(`Thing ${thingName} cannot be found.`);
    return thing;
  }

  list(filter: ListThingsFilter = {}): Page<ThingRecord> {
    if (filter.attributeValue !== undefined && filter.attributeName === undefined) {
      throw invalidRequest('attributeValue requires attributeName');
    }
    const matches = (t: ThingRecord) => {
      if (filter.thingTypeName !== undefined && t.thingTypeName !== filter.thingTypeName) return false;
      if (filter.attributeName === undefined) return true;
      const value = t.attributes[filter.attributeName];
      if (value === undefined) return false;
      if (filter.attributeValue === undefined) return true;
      return filter.usePrefixAttributeValue
        ? value.startsWith(filter.attributeValue)
        : value === filter.attributeValue;
    };
    const all = sortBy(this.store.things.values().filter(matches), (t) => t.thingName);
    return paginate(all, filter.nextToken, filter.maxResults, 250);
  }

  update(update: ThingUpdate): void {
    const thing = this.describe(update.thingName);
    if (update.expectedVersion !== undefined && update.expectedVersion !== thing.version) {
      throw versionConflict(
        `The version for thing ${thing.thingName} does not match the expected version (${update.expectedVersion}).`,
      );
    }
    if (update.removeThingType && update.thingTypeName) {
      throw invalidRequest('removeThingType cannot be combined with thingTypeName');
    }
    let attributes = thing.attributes;
    if (update.attributes) {
      const next: Record<string, string> = update.merge ? { ...thing.attributes } : {};
      for (const [k, v] of Object.entries(update.attributes)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      attributes = checkAttributes(next);
    }
    const { thingTypeName: _old, ...rest } = thing;
    const thingTypeName = update.removeThingType ? undefined : (update.thingTypeName ?? thing.thingTypeName);
    const updated: ThingRecord = {
      ...rest,
      ...(thingTypeName ? { thingTypeName } : {}),
      attributes,
      version: thing.version + 1,
    };
    this.store.things.put(thing.thingName, updated);
    this.store.emit({ type: 'thing-changed', thingName: thing.thingName });
  }

  delete(thingName: string, expectedVersion?: number): void {
    const thing = this.store.things.get(thingName);
    if (!thing) return; // AWS: deleting a thing that does not exist succeeds.
    if (expectedVersion !== undefined && expectedVersion !== thing.version) {
      throw versionConflict(
        `The version for thing ${thingName} does not match the expected version (${expectedVersion}).`,
      );
    }
    if (this.store.thingPrincipals.ofLeft(thingName).length > 0) {
      throw invalidRequest(
        `Cannot delete thing ${thingName}: it still has principals attached; detach them first.`,
      );
    }
    this.store.things.delete(thingName);
    this.store.emit({ type: 'thing-changed', thingName });
  }
}

function checkAttributes(attributes: Record<string, string>): Record<string, string> {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw invalidRequest('attributes must be a map of strings');
  }
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidRequest(`A thing can have at most ${MAX_ATTRIBUTES} attributes; got ${entries.length}`);
  }
  for (const [k, v] of entries) {
    if (!ATTRIBUTE_NAME.test(k)) throw invalidRequest(`Invalid attribute name: ${k}`);
    if (typeof v !== 'string' || !ATTRIBUTE_VALUE.test(v)) {
      throw invalidRequest(`Invalid value for attribute ${k}: ${String(v).slice(0, 100)}`);
    }
  }
  return { ...attributes };
}

function sortedEntries(o: Record<string, string>) {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
