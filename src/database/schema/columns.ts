import { timestamp } from 'drizzle-orm/pg-core';

/** timestamptz read as a JS Date (UTC instant). */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const createdAt = () => timestamptz('created_at').notNull().defaultNow();
export const updatedAt = () =>
  timestamptz('updated_at')
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date());

/** `('a', 'b')` for a CHECK constraint over a fixed set of string literals defined in code. */
export const sqlList = (values: readonly string[]) => `(${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`;
