import type { CompiledQuery, Compilable, Kysely, QueryResult, Transaction } from 'kysely';

/** Stands in for one argument while the query is compiled; Kysely passes it through as a parameter. */
class Slot {
  constructor(readonly index: number) {}
}

interface Compiled {
  query: CompiledQuery<unknown>;
  /** For each compiled parameter: the argument it takes, or -1 for a constant of the query. */
  slots: number[];
}

/** The database each transaction opened by inTransaction belongs to. */
const databaseOf = new WeakMap<object, object>();

/**
 * Runs `work` in one transaction: its writes cost one commit instead of one each. Prepared
 * queries run on the transaction use the queries compiled for its database, where a
 * transaction opened otherwise would compile them again.
 */
export function inTransaction<DB, T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.transaction().execute((trx) => {
    databaseOf.set(trx, databaseOf.get(db) ?? db);
    return work(trx);
  });
}

/**
 * A query of fixed shape, built and compiled once per database and then run with new
 * arguments. Building and compiling a Kysely query takes about twice as long as SQLite
 * takes to run these short statements, and the attach/detach steps run a few dozen of
 * them per cycle. The builder must pass each argument straight to Kysely as one value
 * (no arrays for `in`, nothing computed from it); `arity` arguments are expected.
 */
export function prepared<DB, A extends unknown[], R>(
  arity: A['length'],
  build: (db: Kysely<DB>, ...args: A) => Compilable<R>,
): (db: Kysely<DB>, ...args: A) => Promise<QueryResult<R>> {
  const byDatabase = new WeakMap<Kysely<DB>, Compiled>();
  const compile = (db: Kysely<DB>): Compiled => {
    const markers = Array.from({ length: arity }, (_, i) => new Slot(i));
    const query = build(db, ...(markers as unknown as A)).compile() as CompiledQuery<unknown>;
    const slots = query.parameters.map((p) => (p instanceof Slot ? p.index : -1));
    for (const marker of markers) {
      if (!slots.includes(marker.index)) throw new Error(`prepared query does not use argument ${marker.index}: ${query.sql}`);
    }
    const compiled = { query, slots };
    byDatabase.set(db, compiled);
    return compiled;
  };
  return (db, ...args) => {
    const root = (databaseOf.get(db) as Kysely<DB> | undefined) ?? db;
    const { query, slots } = byDatabase.get(root) ?? compile(root);
    const parameters = slots.map((slot, i) => (slot < 0 ? query.parameters[i] : args[slot]));
    return db.executeQuery({ ...query, parameters } as CompiledQuery<R>);
  };
}
