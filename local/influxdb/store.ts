/**
 * What one local InfluxDB instance holds: its organization, bucket, users and API tokens
 * (`meta.json`, written atomically), and the points of each bucket (`<bucket id>.lp`, an
 * append-only log in line protocol with nanosecond times, fsynced before a write is
 * answered, replayed on start).
 *
 * Semantics followed (InfluxDB OSS v2 documentation): a point with the same series and time
 * as a stored one merges into it, its fields replacing the stored ones ("Handle duplicate data
 * points"); a field keeps the type of its first write in a measurement, and a point with
 * another type is rejected ("field type conflict"); points older than the bucket's retention
 * period are rejected on write and hidden from queries ("Data retention"). Passwords and
 * tokens are kept as salted SHA-256 hashes, as InfluxDB 2.9 keeps tokens ("Token hashing").
 *
 * What survives damage (stop, damage, start): `meta.json` (and the service's `instances.json`)
 * truncated, garbage, `null`, of the wrong shape or empty is replaced by its last-good copy and
 * the log says so; without a usable copy the cloud refuses to start, naming the file. A bucket's
 * `.lp` file keeps every line that parses: a torn or garbled line is skipped, kept with its
 * reason in `<bucket>.lp.quarantine` and reported with its path and line.
 * LIMITATION: a missing `.lp` file is taken as a bucket without points.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { type DamagedLine, type LocalLogger, quarantineLines, StateFile } from '../common';
import { type FieldValue, formatPoint, type Point, parseLineProtocol, seriesKey } from './line-protocol';

export interface Permission {
  readonly action: 'read' | 'write';
  readonly resource: { readonly type: string; readonly id?: string; readonly orgID?: string };
}

export interface Authorization {
  readonly id: string;
  readonly tokenHash: string;
  readonly orgID: string;
  readonly description: string;
  readonly permissions: readonly Permission[];
  readonly createdAt: string;
}

export interface Bucket {
  readonly id: string;
  readonly name: string;
  readonly orgID: string;
  retentionSeconds: number;
}

interface Meta {
  readonly org: { readonly id: string; readonly name: string };
  readonly user: {
    readonly id: string;
    readonly name: string;
    readonly salt: string;
    readonly passwordHash: string;
  };
  readonly buckets: Bucket[];
  readonly authorizations: Authorization[];
}

/** Who a request acts as: the admin user (session) or an API token. */
export type Principal = { readonly kind: 'user' } | { readonly kind: 'token'; readonly auth: Authorization };

const MetaSchema = z.object({
  org: z.looseObject({ id: z.string().min(1), name: z.string() }),
  user: z.looseObject({
    id: z.string().min(1),
    name: z.string(),
    salt: z.string(),
    passwordHash: z.string(),
  }),
  buckets: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string(),
      orgID: z.string(),
      retentionSeconds: z.number(),
    }),
  ),
  authorizations: z.array(
    z.looseObject({
      id: z.string().min(1),
      tokenHash: z.string(),
      orgID: z.string(),
      description: z.string(),
      permissions: z.array(
        z.looseObject({ action: z.enum(['read', 'write']), resource: z.looseObject({ type: z.string() }) }),
      ),
      createdAt: z.string(),
    }),
  ),
});

const id16 = () => randomBytes(8).toString('hex');
const hash = (salt: string, secret: string) => createHash('sha256').update(`${salt}:${secret}`).digest('hex');

export interface WriteOutcome {
  readonly written: number;
  readonly beyondRetention: number;
  readonly typeConflicts: readonly string[];
}

export class InstanceStore {
  private readonly meta: StateFile<Meta>;
  /** Per bucket: `<series>\0<time>` -> point. */
  private readonly points = new Map<string, Map<string, Point>>();
  /** Per bucket: `<measurement>\0<field>` -> field type. */
  private readonly fieldTypes = new Map<string, Map<string, FieldValue['type']>>();

  private constructor(
    private readonly dir: string,
    meta: StateFile<Meta>,
    private readonly logger: LocalLogger,
  ) {
    this.meta = meta;
    for (const b of meta.value.buckets) this.load(b.id);
  }

  static open(
    dir: string,
    init: { name?: string; organization: string; bucket: string; username: string; password: string },
    logger: LocalLogger,
  ): InstanceStore {
    mkdirSync(dir, { recursive: true });
    const meta = StateFile.open<Meta>({
      path: join(dir, 'meta.json'),
      schema: MetaSchema as unknown as z.ZodType<Meta>,
      what: `the organization, buckets, users and tokens of InfluxDB instance ${init.name ?? dir}`,
      logger,
      whenUnusable: 'refuse',
      restoreNote: 'a bucket or token made after that is lost (its points stay in their file)',
      initial: () => {
        const salt = randomBytes(16).toString('hex');
        const orgID = id16();
        return {
          org: { id: orgID, name: init.organization },
          user: { id: id16(), name: init.username, salt, passwordHash: hash(salt, init.password) },
          buckets: [{ id: id16(), name: init.bucket, orgID, retentionSeconds: 0 }],
          authorizations: [],
        };
      },
    });
    if (!existsSync(meta.path)) meta.save();
    return new InstanceStore(dir, meta, logger);
  }

  get organization() {
    return this.meta.value.org;
  }

  checkPassword(username: string, password: string): boolean {
    const u = this.meta.value.user;
    return u.name === username && hash(u.salt, password) === u.passwordHash;
  }

  findToken(token: string): Authorization | undefined {
    const h = hash('token', token);
    return this.meta.value.authorizations.find((a) => a.tokenHash === h);
  }

  buckets(): readonly Bucket[] {
    return this.meta.value.buckets;
  }

  bucketByName(name: string): Bucket | undefined {
    return this.meta.value.buckets.find((b) => b.name === name || b.id === name);
  }

  setRetention(bucketID: string, seconds: number): Bucket | undefined {
    const b = this.meta.value.buckets.find((x) => x.id === bucketID);
    if (!b) return undefined;
    b.retentionSeconds = seconds;
    this.meta.save();
    return b;
  }

  createAuthorization(orgID: string, description: string, permissions: readonly Permission[]) {
    const token = randomBytes(48).toString('base64url');
    const auth: Authorization = {
      id: id16(),
      tokenHash: hash('token', token),
      orgID,
      description,
      permissions,
      createdAt: new Date().toISOString(),
    };
    this.meta.value.authorizations.push(auth);
    this.meta.save();
    return { auth, token };
  }

  authorizations(): readonly Authorization[] {
    return this.meta.value.authorizations;
  }

  deleteAuthorization(id: string): boolean {
    const before = this.meta.value.authorizations.length;
    const kept = this.meta.value.authorizations.filter((a) => a.id !== id);
    if (kept.length === before) return false;
    this.meta.value.authorizations.splice(0, before, ...kept);
    this.meta.save();
    return true;
  }

  /** Whether `who` may do `action` on the bucket (InfluxDB authorization permissions). */
  allowed(who: Principal, action: 'read' | 'write', bucket: Bucket): boolean {
    if (who.kind === 'user') return true;
    return who.auth.permissions.some(
      (p) =>
        p.action === action &&
        p.resource.type === 'buckets' &&
        (p.resource.id === undefined || p.resource.id === bucket.id) &&
        (p.resource.orgID === undefined || p.resource.orgID === bucket.orgID),
    );
  }

  /** Stores the points that pass the retention and type checks; the log is fsynced first. */
  write(bucket: Bucket, points: readonly Point[], nowNs: bigint): WriteOutcome {
    const map = this.points.get(bucket.id)!;
    const types = this.fieldTypes.get(bucket.id)!;
    const oldest =
      bucket.retentionSeconds > 0 ? nowNs - BigInt(bucket.retentionSeconds) * 1_000_000_000n : undefined;
    const accepted: Point[] = [];
    const conflicts: string[] = [];
    let beyondRetention = 0;
    const pending = new Map<string, FieldValue['type']>();
    for (const p of points) {
      if (oldest !== undefined && p.time < oldest) {
        beyondRetention++;
        continue;
      }
      const conflict = Object.entries(p.fields).find(([k, v]) => {
        const known = types.get(`${p.measurement}\0${k}`) ?? pending.get(`${p.measurement}\0${k}`);
        return known !== undefined && known !== v.type;
      });
      if (conflict) {
        const [field, value] = conflict;
        const known = types.get(`${p.measurement}\0${field}`) ?? pending.get(`${p.measurement}\0${field}`);
        conflicts.push(
          `field type conflict: input field "${field}" on measurement "${p.measurement}" is type ${value.type}, already exists as type ${known}`,
        );
        continue;
      }
      for (const [k, v] of Object.entries(p.fields)) pending.set(`${p.measurement}\0${k}`, v.type);
      accepted.push(p);
    }
    if (accepted.length > 0) {
      this.append(bucket.id, accepted);
      for (const [k, v] of pending) types.set(k, v);
      for (const p of accepted) merge(map, p);
    }
    return { written: accepted.length, beyondRetention, typeConflicts: conflicts };
  }

  /** The bucket's points within its retention. */
  read(bucket: Bucket, nowNs: bigint): Point[] {
    const oldest =
      bucket.retentionSeconds > 0 ? nowNs - BigInt(bucket.retentionSeconds) * 1_000_000_000n : undefined;
    const out: Point[] = [];
    for (const p of this.points.get(bucket.id)!.values())
      if (oldest === undefined || p.time >= oldest) out.push(p);
    return out;
  }

  private append(bucketID: string, points: readonly Point[]): void {
    const fd = openSync(join(this.dir, `${bucketID}.lp`), 'a');
    try {
      writeSync(fd, `${points.map(formatPoint).join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private load(bucketID: string): void {
    const map = new Map<string, Point>();
    const types = new Map<string, FieldValue['type']>();
    this.points.set(bucketID, map);
    this.fieldTypes.set(bucketID, types);
    const file = join(this.dir, `${bucketID}.lp`);
    if (!existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const torn = text.length > 0 && !text.endsWith('\n');
    const good: string[] = [];
    const bad: DamagedLine[] = [];
    lines.forEach((line, i) => {
      if (line === '') return;
      // A crash can leave a last line half written; everything before it was acknowledged.
      if (torn && i === lines.length - 1) {
        bad.push({ line: i + 1, text: line, reason: 'incomplete last line; an interrupted write' });
        return;
      }
      let points: Point[];
      try {
        points = parseLineProtocol(line, 'ns', 0n);
      } catch (err) {
        bad.push({ line: i + 1, text: line, reason: (err as Error).message });
        return;
      }
      good.push(line);
      for (const p of points) {
        for (const [k, v] of Object.entries(p.fields)) types.set(`${p.measurement}\0${k}`, v.type);
        merge(map, p);
      }
    });
    // Skip the damaged lines, keep them aside with the reason, and say so once.
    if (bad.length > 0)
      quarantineLines(file, good, bad, `the points of bucket ${bucketID}`, this.logger, 'line');
  }
}

function merge(map: Map<string, Point>, p: Point): void {
  const key = `${seriesKey(p)}\0${p.time}`;
  const old = map.get(key);
  map.set(key, old ? { ...p, fields: { ...old.fields, ...p.fields } } : p);
}
