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

const isHttp = (url: URL): boolean => url.protocol === "http:" || url.protocol === "https:"

/** The request's URL when it parses as http or https: the only schemes whose userinfo the parser takes apart. */
export const httpUrlOf = (request: ClientRequest.HttpClientRequest): Option.Option<URL> =>
  Option.filter(ClientRequest.toUrl(request), isHttp)

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
 * A URL the middleware refuses before anything is sent, as a typed error: one
 * that does not parse and holds an `@` (the client's own error would print
 * the userinfo), and one whose "scheme" is not followed by `//`, such as
 * `localhost:8080/p` or a pasted `user:password@host` (node:http throws on
 * those). Other URLs are the client's to judge: a relative URL or a scheme of
 * its own (`mock://`) may be what a custom client serves. Only a URL that is
 * not plainly `http(s)://` or that holds an `@` is parsed, so that the common
 * case costs two string checks.
 */
export const unsupportedUrl = (request: ClientRequest.HttpClientRequest): HttpClientError.RequestError | undefined => {
  const url = request.url
  if (HTTP_PREFIX.test(url) && !url.includes("@")) return undefined
  const parsed = ClientRequest.toUrl(request)
  if (Option.isNone(parsed)) return url.includes("@") ? refused(request) : undefined
  if (isHttp(parsed.value)) return undefined
  return url.slice(parsed.value.protocol.length).startsWith("//") ? undefined : refused(request)
}

const refused = (request: ClientRequest.HttpClientRequest): HttpClientError.RequestError =>
  new HttpClientError.RequestError({
    request: withoutUserinfo(request),
    reason: "InvalidUrl",
    description: "the URL is not an http or https URL (is \"http://\" missing?); nothing was sent"
  })
