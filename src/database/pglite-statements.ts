import { messages, parse, protocol, type PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';
import { concatBytes } from '../common/concat-bytes.js';

/** What Drizzle's PGlite driver calls on its client: `query`, and `transaction` whose callback's `query` it calls. */
export type PgliteQueryClient = Pick<PGlite, 'query' | 'transaction'>;

interface Statement {
  name: string;
  /** The parameters' type oids, as PostgreSQL inferred them (for serialising the values). */
  types: number[];
}

/** PGlite's own protected members this module runs its protocol messages under. */
interface PgliteInternals {
  waitReady: Promise<void>;
  serializers: Record<number, (value: unknown) => string>;
  parsers: Parameters<typeof parse.parseResults>[1];
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
}

const NO_SYNC = { syncToFs: false } as const;

/**
 * PGlite's `query` with each statement text parsed once and kept as a named prepared statement,
 * as postgres.js does on PostgreSQL (issue 24, item 4).
 *
 * PGlite runs every `query` as an unnamed statement: Parse, Describe, Bind, Describe, Execute and
 * Sync, six calls into the WebAssembly, the text parsed, analysed and planned again each time. An
 * import runs the same nine statements for every file; on a 5 KB file their parsing and planning
 * was about half of PGlite's CPU. Here the first run of a text parses it under a name of its own
 * (Parse and Describe: its parameter types); every run then binds that statement and executes it
 * in one call (Bind, Describe, Execute, Sync). PostgreSQL plans a named statement as it does for
 * postgres.js: a custom plan for each of its first five runs, then the generic plan when that is
 * not dearer. Results, errors and transactions are PGlite's own: the same messages are parsed by
 * the same functions, and a statement runs under the same locks as `PGlite.query`.
 *
 * At most `capacity` texts are kept (least recently used first out: texts with a varying number of
 * parameters, such as multi-row inserts, are many); an evicted statement is closed with the next
 * Parse. A query with options this does not cover (a blob, parameter types) goes to PGlite as it is.
 */
export class PgliteStatementCache implements PgliteQueryClient {
  private readonly statements = new Map<string, Statement>();
  private readonly toClose: string[] = [];
  private counter = 0;
  private readonly internals: PgliteInternals;

  constructor(
    private readonly client: PGlite,
    private readonly capacity = 250,
  ) {
    this.internals = client as unknown as PgliteInternals;
  }

  /** Statements held now (tests). */
  get size(): number {
    return this.statements.size;
  }

  query<T>(query: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    if (!this.covers(options)) return this.client.query<T>(query, params, options);
    return this.outside(async () => {
      try {
        return await this.run<T>(query, params ?? [], options);
      } catch (error) {
        // A kept plan refused after a schema change (forgotten by run): outside a transaction, parsed again and run once more.
        if (isRefusedPlan(error) && !this.statements.has(query)) return this.run<T>(query, params ?? [], options);
        throw error;
      }
    });
  }

  transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.client.transaction((tx) => {
      const cached: Transaction = Object.create(tx) as Transaction;
      cached.query = <R>(query: string, params?: unknown[], options?: QueryOptions) => {
        if (tx.closed) throw new Error('Transaction is closed');
        if (!this.covers(options)) return tx.query<R>(query, params, options);
        return this.internals._runExclusiveQuery(() => this.run<R>(query, params ?? [], options));
      };
      return callback(cached);
    });
  }

  private covers(options: QueryOptions | undefined): boolean {
    return !options?.blob && !options?.paramTypes;
  }

  /** A statement outside any transaction: under PGlite's transaction and query locks, then its file sync, as PGlite.query. */
  private async outside<T>(run: () => Promise<T>): Promise<T> {
    await this.internals.waitReady;
    return this.internals._runExclusiveTransaction(async () => {
      const result = await this.internals._runExclusiveQuery(run);
      await this.client.syncToFs();
      return result;
    });
  }

  private async run<T>(query: string, params: unknown[], options: QueryOptions | undefined): Promise<Results<T>> {
    try {
      const statement = await this.prepared(query, options);
      const values = params.map((param, i) => {
        if (param === null || param === undefined) return null;
        const serialize = options?.serializers?.[statement.types[i]!] ?? this.internals.serializers[statement.types[i]!];
        return serialize ? serialize(param) : String(param);
      });
      const message = concatBytes([
        protocol.serialize.bind({ statement: statement.name, values }),
        protocol.serialize.describe({ type: 'P' }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]);
      let results;
      try {
        results = await this.client.execProtocolStream(message, { ...NO_SYNC, onNotice: options?.onNotice });
      } catch (error) {
        // After a schema change PostgreSQL may refuse a kept plan whose result changed: parse it again next time.
        if (isRefusedPlan(error)) this.forget(query);
        throw error;
      }
      // PGlite merges a query's parsers into a copy of its own (one per type of the database, some
      // hundreds) for every result; looked up through the prototype instead, the copy is not made.
      const parsers = options?.parsers ? Object.assign(Object.create(this.internals.parsers) as PgliteInternals['parsers'], options.parsers) : this.internals.parsers;
      return parse.parseResults(results, parsers, options?.parsers ? { ...options, parsers: undefined } : options)[0] as Results<T>;
    } catch (error) {
      if (isDatabaseError(error)) Object.assign(error, { query, params, queryOptions: options });
      throw error;
    }
  }

  /** The named statement of a text, parsed on its first run. */
  private async prepared(query: string, options: QueryOptions | undefined): Promise<Statement> {
    const known = this.statements.get(query);
    if (known) {
      // Most recently used last: eviction takes the first.
      this.statements.delete(query);
      this.statements.set(query, known);
      return known;
    }
    const name = `uaa_${++this.counter}`;
    const closes = this.toClose.splice(0).map((old) => protocol.serialize.close({ type: 'S', name: old }));
    let types: number[];
    try {
      const described = await this.client.execProtocolStream(
        concatBytes([...closes, protocol.serialize.parse({ name, text: query }), protocol.serialize.describe({ type: 'S', name })]),
        { ...NO_SYNC, onNotice: options?.onNotice },
      );
      types = parse.parseDescribeStatementResults(described);
    } catch (error) {
      // The backend skips messages until a Sync after an error.
      await this.client.execProtocolStream(protocol.serialize.sync(), NO_SYNC);
      throw error;
    }
    const statement = { name, types };
    this.statements.set(query, statement);
    if (this.statements.size > this.capacity) {
      const [oldest] = this.statements;
      this.statements.delete(oldest![0]);
      this.toClose.push(oldest![1].name);
    }
    return statement;
  }

  private forget(query: string): void {
    const statement = this.statements.get(query);
    if (!statement) return;
    this.statements.delete(query);
    this.toClose.push(statement.name);
  }
}

const isDatabaseError = (error: unknown): error is InstanceType<typeof messages.DatabaseError> => error instanceof messages.DatabaseError;

/** PostgreSQL's refusal of a kept plan whose result changed (`cached plan must not change result type`), recognised as postgres.js does: by the routine. */
const isRefusedPlan = (error: unknown) => isDatabaseError(error) && error.routine === 'RevalidateCachedQuery';
