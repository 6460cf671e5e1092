// Optional durable backing for the store: one SQLite table per resource holding the JSON
// document plus a few indexed columns, written through on every store write and read back in
// insertion order on start. node:sqlite is synchronous, which suits a write-through store: a
// write is on disk (WAL) before the request that caused it is answered.
import type {DatabaseSync, StatementSync} from 'node:sqlite'
import {AmbientError} from '../errors.js'
import {InsecureFileError, securePrivateFile} from '../private-files.js'
import type {StoreResource} from './schema.js'

export class PersistenceError extends AmbientError {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, 'ERR_API_SERVER_DB', options)
  }
}

interface Statements {
  upsert: StatementSync
  remove: StatementSync
  load: StatementSync
}

export interface StoredDoc {
  id: string
  created_at: string
  updated_at: string
  [field: string]: unknown
}

export class SqliteBacking {
  private readonly statements = new Map<StoreResource, Statements>()
  private depth = 0

  private constructor(private readonly db: DatabaseSync) {}

  static async open(path: string, resources: readonly StoreResource[]): Promise<SqliteBacking> {
    // Imported lazily: in-memory servers never load node:sqlite.
    const {DatabaseSync} = await import('node:sqlite')
    let db: DatabaseSync
    try {
      securePrivateDatabase(path)
      db = new DatabaseSync(path)
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
    } catch (err) {
      if (err instanceof InsecureFileError) throw err
      throw new PersistenceError(`cannot open database ${path}: ${String(err)}`, {cause: err})
    }
    const backing = new SqliteBacking(db)
    for (const r of resources) backing.prepare(r)
    return backing
  }

  private prepare(resource: StoreResource): void {
    // The table name comes from the fixed resource list, never from a request.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${resource} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        project_id TEXT,
        doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${resource}_project_id ON ${resource}(project_id);
    `)
    this.statements.set(resource, {
      upsert: this.db.prepare(
        `INSERT INTO ${resource} (id, created_at, updated_at, project_id, doc) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, project_id = excluded.project_id, doc = excluded.doc`,
      ),
      remove: this.db.prepare(`DELETE FROM ${resource} WHERE id = ?`),
      load: this.db.prepare(`SELECT doc FROM ${resource} ORDER BY seq`),
    })
  }

  private stmts(resource: StoreResource): Statements {
    const s = this.statements.get(resource)
    if (!s) throw new PersistenceError(`no table for ${resource}`)
    return s
  }

  load(resource: StoreResource): StoredDoc[] {
    const rows = this.stmts(resource).load.all()
    return rows.map((row) => {
      const text = row.doc
      if (typeof text !== 'string') throw new PersistenceError(`${resource}: a row has no document`)
      const doc: unknown = JSON.parse(text)
      if (!isStoredDoc(doc)) throw new PersistenceError(`${resource}: a row holds an invalid document`)
      return doc
    })
  }

  put(resource: StoreResource, doc: StoredDoc): void {
    const projectId = typeof doc.project_id === 'string' ? doc.project_id : null
    this.stmts(resource).upsert.run(doc.id, doc.created_at, doc.updated_at, projectId, JSON.stringify(doc))
  }

  remove(resource: StoreResource, id: string): void {
    this.stmts(resource).remove.run(id)
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  transaction<R>(fn: () => R): R {
    if (this.depth > 0) return fn()
    this.db.exec('BEGIN')
    this.depth++
    try {
      const result = fn()
      this.db.exec('COMMIT')
      return result
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    } finally {
      this.depth--
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close()
  }
}

/**
 * The database holds session data (environment_variables too), and so do its WAL and shared
 * memory: 0600 before SQLite opens them, which then creates the WAL and -shm with the
 * database file's own mode. Files an earlier version left 0644 are tightened.
 */
function securePrivateDatabase(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return
  securePrivateFile(path, {create: true})
  for (const suffix of ['-wal', '-shm', '-journal']) securePrivateFile(`${path}${suffix}`)
}

function isStoredDoc(v: unknown): v is StoredDoc {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return typeof o.id === 'string' && typeof o.created_at === 'string' && typeof o.updated_at === 'string'
}
