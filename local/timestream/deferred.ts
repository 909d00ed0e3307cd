/**
 * Timestream opened on first use: the same TimestreamService, whose DuckDB database (the native
 * library alone is about 30 MiB resident, and opening it is most of a cold start) is opened by
 * the first request, deploy or in-process call that needs it rather than when the cloud starts.
 * The routes match requests without it (./protocol); the request that opens it waits for it.
 *
 * A state dir that already has a database opens it at start, as before: a damaged file stops
 * the start naming the file. (A second cloud on the same state dir is kept out by the state
 * dir's own lock, ../common/state-lock, whether or not the database is open.)
 *
 * LIMITATIONS: the first Timestream call after a start takes the opening time (a few hundred
 * milliseconds on a cold cache) on top of its own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Deferred, deferredRoute } from '../common';
import type { ServiceRoute } from '../gateway';
import { QUERY_ROUTE, WRITE_ROUTE } from './protocol';
import { DATABASE_FILE, type TimestreamService, type TimestreamServiceOptions } from './types';

export async function deferTimestreamService(options: TimestreamServiceOptions): Promise<TimestreamService> {
  const service = new Deferred<TimestreamService>(
    async () => (await import('./service')).createTimestreamService(options),
    (s) => s.close(),
  );
  if (existsSync(join(options.dir, DATABASE_FILE))) await service.get();
  const route = (pick: (s: TimestreamService) => ServiceRoute) => async () => pick(await service.get());
  return {
    writeRoute: deferredRoute(
      WRITE_ROUTE,
      route((s) => s.writeRoute),
    ),
    queryRoute: deferredRoute(
      QUERY_ROUTE,
      route((s) => s.queryRoute),
    ),
    createDatabase: async (name, o) => (await service.get()).createDatabase(name, o),
    createTable: async (database, name, o) => (await service.get()).createTable(database, name, o),
    updateTable: async (database, name, o) => (await service.get()).updateTable(database, name, o),
    deleteTable: async (database, name) => (await service.get()).deleteTable(database, name),
    deleteDatabase: async (name) => (await service.get()).deleteDatabase(name),
    query: async (queryString, o) => (await service.get()).query(queryString, o),
    close: () => service.close(),
  };
}
