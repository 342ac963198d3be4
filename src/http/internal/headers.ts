import * as Headers from "@effect/platform/Headers"
import * as ClientRequest from "@effect/platform/HttpClientRequest"
import * as Option from "effect/Option"

/** The characters of an HTTP token (RFC 9110), which a header name is. */
const TOKEN_CHARACTERS = "!#$%&'*+\\-.^_`|~0-9A-Za-z"
const TOKEN = new RegExp(`^[${TOKEN_CHARACTERS}]+$`)
const NOT_TOKEN_CHARACTER = new RegExp(`[^${TOKEN_CHARACTERS}]`)

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

const printableName = (name: string) => JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name)

/**
 * What is wrong with a header name: the first character a token may not
 * hold. Only the part before it is shown, since a whole header line pasted
 * as a name ("Authorization: Bearer sk-...") carries its value after it.
 */
const nameProblem = (name: string): string => {
  if (name === "") return "header name is empty"
  const at = name.search(NOT_TOKEN_CHARACTER)
  const code = name.charCodeAt(at)
  const character = `${JSON.stringify(name[at])} (U+${hex(code)}) at position ${at}`
  const shown = at === 0 ? "header name" : `header name ${printableName(name.slice(0, at))}`
  return `${shown} is followed by ${character}, which an HTTP token may not contain (the rest of the name not shown)`
}

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
      found.push({ name, kind: "name", description: nameProblem(name) })
      continue
    }
    const problem = valueProblem(headers[name]!)
    if (problem !== undefined) {
      found ??= []
      found.push({
        name,
        kind: "value",
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
  /** Whether the name or the value is what HTTP forbids. */
  readonly kind: "name" | "value"
  readonly description: string
}

/** The placeholder that replaces a rejected header's value in the request an error carries. */
export const REMOVED_VALUE = "[invalid value removed]"

/**
 * The request an `Encode` error carries: each rejected value replaced by
 * `REMOVED_VALUE`, and each header with a rejected name left out.
 */
export const withoutInvalidHeaders = (
  request: ClientRequest.HttpClientRequest,
  problems: ReadonlyArray<InvalidHeader>
): ClientRequest.HttpClientRequest => {
  let headers = request.headers
  for (const problem of problems) {
    headers = problem.kind === "name"
      ? Headers.remove(headers, problem.name)
      : Headers.set(headers, problem.name, REMOVED_VALUE)
  }
  // The platform can add headers to a request but not take one away: the
  // request is built again, its body first so that the headers set last win.
  const rebuilt = ClientRequest.setBody(
    ClientRequest.setUrlParams(ClientRequest.make(request.method)(request.url), request.urlParams),
    request.body
  )
  const withHash = Option.match(request.hash, { onNone: () => rebuilt, onSome: (hash) => ClientRequest.setHash(rebuilt, hash) })
  return ClientRequest.setHeaders(withHash, headers)
}

/** Whether a string is a valid header name. */
export const isToken = (name: string): boolean => TOKEN.test(name)
