import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { closePostgresPools, parseDatabaseUrl } from "../../src/runtime/store/postgres-store.js";

const made: string[] = [];

/**
 * A database URL whose coord tables live in a schema of their own (`?schema=`), so tests and
 * their worker processes never see each other's runs. Every schema made by a file is dropped
 * after it, and the file's pools are closed.
 */
export function postgresSchemaUrl(): string {
  const schema = `coord_t_${randomBytes(5).toString("hex")}`;
  made.push(schema);
  const url = new URL(inject("postgresUrl"));
  url.searchParams.set("schema", schema);
  return url.toString();
}

afterAll(async () => {
  await closePostgresPools();
  if (made.length === 0) return;
  const client = new pg.Client({ connectionString: parseDatabaseUrl(inject("postgresUrl")).connectionString });
  await client.connect();
  try {
    for (const schema of made.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
});
