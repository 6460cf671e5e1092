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

/** First port of `range` that is not in `taken` and can be bound; NoFreePortError otherwise. */
export async function findFreePort(range: PortRange, taken: ReadonlySet<number>, host = '127.0.0.1'): Promise<number> {
  for (let port = range.from; port <= range.to; port++) {
    if (taken.has(port)) continue
    if (await isPortFree(port, host)) return port
  }
  throw new NoFreePortError(range.from, range.to)
}
