// KSUID-style ids like the real server's (27 base62 chars: 4 bytes of seconds since the KSUID
// epoch + 16 bytes of payload). Ours are also strictly increasing within a process: when the
// second has not moved on, the payload is the previous one plus one, so ids sort in creation
// order and can never repeat; across restarts a fresh random payload keeps them apart.
import {randomBytes} from 'node:crypto'

const KSUID_EPOCH_SECONDS = 1_400_000_000
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ID_LENGTH = 27
const PAYLOAD_BITS = 128n
const PAYLOAD_MASK = (1n << PAYLOAD_BITS) - 1n

export interface IdGeneratorOptions {
  /** Milliseconds since the Unix epoch. */
  now?: () => number
  /** Random bytes source (tests inject a deterministic one). */
  random?: (size: number) => Uint8Array
}

export class KsuidGenerator {
  private lastSeconds = -1
  private lastPayload = 0n
  private readonly now: () => number
  private readonly random: (size: number) => Uint8Array

  constructor(options: IdGeneratorOptions = {}) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? ((size) => randomBytes(size))
  }

  next(): string {
    let seconds = Math.max(0, Math.floor(this.now() / 1000) - KSUID_EPOCH_SECONDS)
    let payload: bigint
    if (seconds <= this.lastSeconds) {
      seconds = this.lastSeconds
      payload = (this.lastPayload + 1n) & PAYLOAD_MASK
      // Payload wrapped around within one second (2^128 ids): borrow the next second.
      if (payload === 0n) seconds += 1
    } else {
      payload = bytesToBigInt(this.random(16))
    }
    this.lastSeconds = seconds
    this.lastPayload = payload
    return encodeBase62((BigInt(seconds) << PAYLOAD_BITS) | payload)
  }
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

function encodeBase62(n: bigint): string {
  let out = ''
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out
    n /= 62n
  }
  return out.padStart(ID_LENGTH, '0')
}
