// What the resource commands (sessions, projects, project-settings) share: the connection
// flags, a RestClient built from resolved settings (src/lib/connection), JSON-flag parsing with usage errors that
// exit 2, and the detail view of one object.
import {Errors, Flags} from '@oclif/core'
import {ApiError, singular} from '../api/errors.js'
import type {GroupAccess, RepoSpec} from '../api/types.js'
import type {Config} from '../config/index.js'
import {AmbientError, ExitCode} from '../errors.js'
import type {Logger} from '../log.js'
import {isRecord} from '../util/is-record.js'
import {sanitize} from '../util/sanitize.js'
import type {GrpcClient} from '../api/grpc.js'
import type {RestClient} from '../api/rest.js'
import {grpcClientFromConfig, restClientFromConfig} from '../connection/index.js'

export {restClientFromConfig} from '../connection/index.js'
import {AmbientCommand} from './base.js'

/** Connection flags; each one overrides its setting (flags > env > settings file > defaults). */
export const apiFlags = {
  server: Flags.string({description: 'API server URL (env AMBIENT_API_SERVER_URL).', helpGroup: 'API'}),
  token: Flags.string({description: 'Bearer token (env AMBIENT_API_TOKEN).', helpGroup: 'API'}),
  'base-path': Flags.string({description: 'REST base path (env AMBIENT_API_BASE_PATH).', helpGroup: 'API'}),
}

export interface ApiFlagValues {
  server?: string
  token?: string
  'base-path'?: string
  'log-level'?: string
}

/** A flag value that cannot be used: exit 2 like any other usage error. */
export class FlagError extends AmbientError {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`--${flag}: ${message}`, 'ERR_FLAG')
  }

  override readonly exitCode = ExitCode.config
}

export abstract class ApiCommand extends AmbientCommand {
  static override baseFlags = {...AmbientCommand.baseFlags, ...apiFlags}

  /** Resolved settings with the connection flags applied. */
  protected apiSettings(flags: ApiFlagValues): Config {
    return this.loadSettings({
      AMBIENT_API_SERVER_URL: flags.server,
      AMBIENT_API_TOKEN: flags.token,
      AMBIENT_API_BASE_PATH: flags['base-path'],
      LOG_LEVEL: flags['log-level'],
    }).config
  }

  /** A RestClient for the configured server; a missing token is a ConfigError (exit 2). */
  protected restClient(flags: ApiFlagValues): RestClient {
    const config = this.apiSettings(flags)
    return restClientFromConfig(config, {token: flags.token, logger: this.requestLogger(config)})
  }

  /** A GrpcClient for AMBIENT_GRPC_SERVER_ADDR (gRPC is loaded only when asked for). */
  protected grpcClient(flags: ApiFlagValues): Promise<GrpcClient> {
    const config = this.apiSettings(flags)
    return grpcClientFromConfig(config, {token: flags.token, logger: this.requestLogger(config)})
  }

  private requestLogger(config: Config): Logger | undefined {
    const level = config.LOG_LEVEL
    // Request logs are debug-level: skip creating a logger (and its pretty-printer thread) otherwise.
    return level === 'debug' || level === 'trace' ? this.createLogger(level, 'api') : undefined
  }

  /** Under --json an API error keeps its status, reason and operation id for scripts. */
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof ApiError) {
      const cli = Object.assign(new Errors.CLIError(err.message, {exit: ExitCode.failure, code: err.code}), {
        status: err.status,
        reason: err.reason,
        operationId: err.operationId,
      })
      return super.catch(cli)
    }
    return super.catch(err)
  }
}

/** Parses a JSON flag, checks its shape, and returns it re-serialized (compact) for the API. */
export function jsonFlag(flag: string, raw: string | undefined, check?: (value: unknown) => string | undefined): string | undefined {
  if (raw === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(raw) as unknown
  } catch (err) {
    throw new FlagError(flag, `not valid JSON (${(err as Error).message}): ${raw}`)
  }
  const problem = check?.(value)
  if (problem) throw new FlagError(flag, `${problem}: ${raw}`)
  return JSON.stringify(value)
}

/** `repos`: an array of {url, branch?, autoPush?}. */
export function checkRepos(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'expected an array of {"url": ..., "branch"?: ..., "autoPush"?: true|false}'
  for (const [i, item] of value.entries()) {
    const repo = item as Partial<Record<keyof RepoSpec, unknown>>
    if (!isRecord(item) || typeof repo.url !== 'string' || !repo.url) return `entry ${i} has no "url"`
    if (repo.branch !== undefined && typeof repo.branch !== 'string') return `entry ${i}: "branch" must be a string`
    if (repo.autoPush !== undefined && typeof repo.autoPush !== 'boolean') return `entry ${i}: "autoPush" must be true or false`
  }
  return undefined
}

/** `labels`, `annotations`, `environment_variables`: an object of string to string. */
export function checkStringMap(value: unknown): string | undefined {
  if (!isRecord(value)) return 'expected an object of string values, e.g. {"team": "a"}'
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') return `"${k}" must be a string`
  return undefined
}

/** `group_access`: an array of {group, role}. */
export function checkGroupAccess(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'expected an array of {"group": ..., "role": ...}'
  for (const [i, item] of value.entries()) {
    const entry = item as Partial<Record<keyof GroupAccess, unknown>>
    if (!isRecord(item) || typeof entry.group !== 'string' || !entry.group) return `entry ${i} has no "group"`
    if (typeof entry.role !== 'string' || !entry.role) return `entry ${i} has no "role"`
  }
  return undefined
}

/** `--env KEY=VAL` (repeatable) as the JSON object the API stores. */
export function envFlag(flag: string, pairs: readonly string[] | undefined): string | undefined {
  if (!pairs || pairs.length === 0) return undefined
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new FlagError(flag, `expected KEY=VALUE, got ${JSON.stringify(pair)}`)
    env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return JSON.stringify(env)
}

/**
 * One object as `key: value` lines (YAML-like), JSON documents shown compact, long text as a
 * block. Keys and values come from the server: every line is sanitized.
 */
export function formatDetails(object: object): string {
  const lines: string[] = []
  for (const [rawKey, value] of Object.entries(object)) {
    if (value === undefined) continue
    const key = sanitize(rawKey)
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    if (text.includes('\n')) {
      lines.push(`${key}: |`)
      for (const line of text.split('\n')) lines.push(`  ${sanitize(line)}`)
    } else {
      lines.push(`${key}: ${sanitize(text)}`)
    }
  }
  return lines.join('\n')
}

/**
 * Deletes each id in turn; one that fails does not stop the others. A single failure is
 * rethrown as is (so "session X not found" reads naturally), several are summed up.
 */
export async function deleteAll(
  client: RestClient,
  resource: string,
  ids: readonly string[],
  log: (line: string) => void,
): Promise<{deleted: string[]}> {
  const deleted: string[] = []
  const failures: ApiError[] = []
  for (const id of ids) {
    try {
      await client.delete(resource, id)
      deleted.push(id)
      log(`${singular(resource)} ${id} deleted`)
    } catch (err) {
      // Only the server's refusals are per id; an unreachable server fails the rest alike.
      if (!(err instanceof ApiError)) throw err
      failures.push(err)
    }
  }
  if (failures.length === 1 && ids.length === 1) throw failures[0]
  if (failures.length > 0) {
    throw new AmbientError(`deleted ${deleted.length} of ${ids.length}; ${failures.map((f) => f.message).join('; ')}`, 'ERR_DELETE_PARTIAL')
  }
  return {deleted}
}
