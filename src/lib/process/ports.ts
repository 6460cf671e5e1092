// Runner ports: the first port of the range that nobody listens on and that we have not
// handed out yet. "Free" is tested by binding it, the only answer that is not a guess.
import net from 'node:net'
import {ConfigError} from '../errors.js'
import {NoFreePortError} from './errors.js'

export interface PortRange {
  from: number
  to: number
}

export const DEFAULT_PORT_RANGE: PortRange = {from: 9100, to: 9199}

/** Parses `LOCAL_PORT_RANGE` ("9100-9199"). */
export function parsePortRange(text: string, variable = 'LOCAL_PORT_RANGE'): PortRange {
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text)
  const from = match ? Number(match[1]) : NaN
  const to = match ? Number(match[2]) : NaN
  if (!match || from < 1 || to > 65535 || from > to) {
    throw new ConfigError(variable, `${variable} must look like 9100-9199 (1-65535, from <= to): got ${JSON.stringify(text)}`)
  }
  return {from, to}
}

/** True when 127.0.0.1:`port` can be bound right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen({port, host, exclusive: true}, () => {
      server.close(() => resolve(true))
    })
  })
}

export interface FreePortOptions {
  host?: string
  /** The bind check, default isPortFree (tests slow it down or fake it). */
  isFree?: (port: number, host: string) => Promise<boolean>
}

/** First port of `range` that is not in `taken` and can be bound; NoFreePortError otherwise. */
export async function findFreePort(range: PortRange, taken: ReadonlySet<number>, options: FreePortOptions = {}): Promise<number> {
  const {host = '127.0.0.1', isFree = isPortFree} = options
  for (let port = range.from; port <= range.to; port++) {
    if (taken.has(port)) continue
    if (await isFree(port, host)) return port
  }
  throw new NoFreePortError(range.from, range.to)
}

/**
 * Port choice is check-then-claim: concurrent claims take turns, so two spawns never pick the
 * same port, and a claimed port stays out of later choices until it is released.
 */
export class PortClaims {
  readonly #range: PortRange
  readonly #options: FreePortOptions
  readonly #claimed = new Set<number>()
  #turn: Promise<unknown> = Promise.resolve()

  constructor(range: PortRange, options: FreePortOptions = {}) {
    this.#range = range
    this.#options = options
  }

  /** A free port that is neither claimed nor in `taken()`, claimed until `release`. */
  claim(taken: () => Promise<Set<number>>): Promise<number> {
    const choosing = this.#turn.then(async () => {
      const unavailable = await taken()
      for (const port of this.#claimed) unavailable.add(port)
      const chosen = await findFreePort(this.#range, unavailable, this.#options)
      this.#claimed.add(chosen)
      return chosen
    })
    this.#turn = choosing.catch(() => {})
    return choosing
  }

  release(port: number): void {
    this.#claimed.delete(port)
  }
}
