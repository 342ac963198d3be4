import * as HttpClientError from "@effect/platform/HttpClientError"
import * as ClientRequest from "@effect/platform/HttpClientRequest"
import * as Option from "effect/Option"

// What the middleware tells about a request's URL in events, logs, cool-down
// keys and the errors it builds: never its userinfo.

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//

/**
 * A URL that does not parse as http(s), without userinfo, query string or
 * fragment. Userinfo is everything up to the last `@`: a password may hold
 * `/`, `?` or `#`, so no other character can be trusted to end it.
 */
const unparsedWithoutSecrets = (request: ClientRequest.HttpClientRequest): string => {
  const scheme = SCHEME.exec(request.url)?.[0] ?? ""
  const rest = request.url.slice(scheme.length)
  return scheme + (rest.slice(rest.lastIndexOf("@") + 1).split(/[?#]/)[0] ?? "")
}

/** The request's URL when it parses as http or https: the only schemes whose userinfo the parser takes apart. */
export const httpUrlOf = (request: ClientRequest.HttpClientRequest): Option.Option<URL> =>
  Option.filter(ClientRequest.toUrl(request), (url) => url.protocol === "http:" || url.protocol === "https:")

/** The URL of a request without userinfo, query string or fragment, safe to log. */
export const safeUrl = (request: ClientRequest.HttpClientRequest): string =>
  Option.match(httpUrlOf(request), {
    onNone: () => unparsedWithoutSecrets(request),
    onSome: (url) => `${url.origin}${url.pathname}`
  })

/**
 * The request an error the middleware builds carries: its URL without
 * userinfo, since an error's message prints the URL and errors get logged.
 * The rest of the URL is kept, so that the caller can tell which request it was.
 */
export const withoutUserinfo = (request: ClientRequest.HttpClientRequest): ClientRequest.HttpClientRequest =>
  Option.match(httpUrlOf(request), {
    onNone: () => request.url.includes("@") ? ClientRequest.setUrl(request, unparsedWithoutSecrets(request)) : request,
    onSome: (url) => {
      if (url.username === "" && url.password === "") return request
      url.username = ""
      url.password = ""
      return ClientRequest.setUrl(request, url)
    }
  })

/** The origin of a request (`https://api.example.com`), the default cool-down key. */
export const originOf = (request: ClientRequest.HttpClientRequest): string =>
  Option.match(httpUrlOf(request), {
    onNone: () => unparsedWithoutSecrets(request),
    onSome: (url) => url.origin
  })

const HTTP_PREFIX = /^https?:\/\//i

/**
 * A URL the clients cannot send, as a typed error: one that does not parse as
 * http or https (node:http throws on another scheme). Only a URL that is not
 * plainly `http(s)://` or that holds an `@` is parsed, so that the common
 * case costs two string checks.
 */
export const unsupportedUrl = (request: ClientRequest.HttpClientRequest): HttpClientError.RequestError | undefined => {
  if (HTTP_PREFIX.test(request.url) && !request.url.includes("@")) return undefined
  if (Option.isSome(httpUrlOf(request))) return undefined
  return new HttpClientError.RequestError({
    request: withoutUserinfo(request),
    reason: "InvalidUrl",
    description: "the URL does not parse as an http or https URL; nothing was sent"
  })
}
