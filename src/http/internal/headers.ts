import type * as Headers from "@effect/platform/Headers"

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** What is wrong with a header value, naming the character but never echoing the value. */
const valueProblem = (value: string): string | undefined => {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff)) continue
    switch (code) {
      case 0x0a:
        return `contains a line feed (LF) at position ${i}`
      case 0x0d:
        return `contains a carriage return (CR) at position ${i}`
      case 0x00:
        return `contains a NUL character at position ${i}`
      default:
        return code > 0xff
          ? `contains a character outside ISO-8859-1 (U+${hex(code)}) at position ${i}`
          : `contains the control character U+${hex(code)} at position ${i}`
    }
  }
  return undefined
}

const hex = (code: number) => code.toString(16).toUpperCase().padStart(4, "0")

const printableName = (name: string) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)

/**
 * Finds every header that HTTP forbids: a name that is not a token, or a
 * value with CR, LF, NUL or another control character. Each description names
 * the header and the problem; the value is never included, since it may be a
 * secret (a pasted API key with a trailing newline is the usual case).
 */
export const invalidHeaders = (headers: Headers.Headers): ReadonlyArray<InvalidHeader> => {
  // Allocated only when something is wrong: this runs on every request.
  let found: Array<InvalidHeader> | undefined
  // `for...in` rather than `Object.keys`: no array per request. A Headers'
  // prototype has symbol keys only, so only the headers themselves are seen.
  for (const name in headers) {
    if (!TOKEN.test(name)) {
      found ??= []
      found.push({ name, description: `header name ${printableName(name)} is not a valid HTTP token` })
      continue
    }
    const problem = valueProblem(headers[name]!)
    if (problem !== undefined) {
      found ??= []
      found.push({
        name,
        description: `the value of header ${printableName(name)} ${problem}; header values may not contain CR, LF, NUL or other control characters (value not shown)`
      })
    }
  }
  return found ?? NONE
}

const NONE: ReadonlyArray<InvalidHeader> = []

/** A header HTTP forbids, and what is wrong with it. */
export interface InvalidHeader {
  readonly name: string
  readonly description: string
}

/** The placeholder that replaces a rejected header's value in the request carried by the error. */
export const REMOVED_VALUE = "[invalid value removed]"

/** Whether a string is a valid header name. */
export const isToken = (name: string): boolean => TOKEN.test(name)
