// KSUID-style ids like the real server's (27 base62 chars: 4 bytes of seconds since the KSUID
// epoch + 16 random bytes of payload). Every payload is fresh: consecutive ids must not differ
// only in letter case, because kube mode names a CR after the lower-cased id (an incremented
// payload made 400 of 1000 ids created in one second collide once lower-cased).
import {randomBytes} from 'node:crypto'

const KSUID_EPOCH_SECONDS = 1_400_000_000
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ID_LENGTH = 27
const PAYLOAD_BITS = 128n

export interface IdGeneratorOptions {
  /** Milliseconds since the Unix epoch. */
  now?: () => number
  /** Random bytes source (tests inject a deterministic one). */
  random?: (size: number) => Uint8Array
}

export class KsuidGenerator {
  private readonly now: () => number
  private readonly random: (size: number) => Uint8Array

  constructor(options: IdGeneratorOptions = {}) {
    this.now = options.now ?? Date.now
    this.random = options.random ?? ((size) => randomBytes(size))
  }

  next(): string {
    const seconds = Math.max(0, Math.floor(this.now() / 1000) - KSUID_EPOCH_SECONDS)
    return encodeBase62((BigInt(seconds) << PAYLOAD_BITS) | bytesToBigInt(this.random(16)))
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
