// Terminal escape injection, for tests of every human view: a string carrying what a hostile
// API server or runner could put in a name (an OSC window title, a screen clear, an OSC 52
// clipboard write, C1 and DEL bytes, a bidi override), and a check that no raw control
// character of it reached an output.
import {expect} from 'vitest'

export const OSC_TITLE = '\u001B]0;pwned\u0007'
export const CLEAR_SCREEN = '\u001B[2J'
export const OSC52_CLIPBOARD = '\u001B]52;c;cm0gLXJmIH4=\u0007'
export const BIDI_OVERRIDE = '\u202E'
/** C1 CSI (the one-byte ESC [), DEL and C1 OSC. */
export const C1_AND_DEL = '\u009B31m\u007F\u009D'

export const HOSTILE = `evil${OSC_TITLE}${CLEAR_SCREEN}${OSC52_CLIPBOARD}${BIDI_OVERRIDE}gpj.exe${C1_AND_DEL}`

/** How the sanitizer shows HOSTILE's first control sequences: escaped, visible. */
export const HOSTILE_SHOWN = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b]52;c;cm0gLXJmIH4=\\x07\\u202egpj.exe\\x9b31m\\x7f\\x9d'

/** The first raw control character in `text` (C0 but newline, DEL, C1, bidi), described. */
export function rawControl(text: string, options: {allowSgr?: boolean} = {}): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x0a) continue
    if (options.allowSgr && c === 0x1b) {
      // A colour of the program's own (ESC [ digits ; m) is allowed where asked for.
      let j = i + 1
      if (text[j] === '[') {
        j++
        while (j < text.length && /[0-9;]/.test(text[j])) j++
        if (text[j] === 'm') {
          i = j
          continue
        }
      }
    }
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
    if (control) return `U+${c.toString(16).padStart(4, '0')} at ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`
  }
  return undefined
}

export function expectNoRawControls(text: string, where: string, options: {allowSgr?: boolean} = {}): void {
  expect(rawControl(text, options), `${where} emitted a raw control character`).toBeUndefined()
}
