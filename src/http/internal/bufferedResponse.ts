import * as Cookies from "@effect/platform/Cookies"
import * as Error from "@effect/platform/HttpClientError"
import type * as ClientRequest from "@effect/platform/HttpClientRequest"
import * as ClientResponse from "@effect/platform/HttpClientResponse"
import type * as Headers from "@effect/platform/Headers"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"

const decoder = new TextDecoder()

/**
 * A response whose body has been read into memory: every accessor can be used
 * any number of times, in any order, and none touches the network.
 */
class BufferedResponse extends Inspectable.Class implements ClientResponse.HttpClientResponse {
  readonly [ClientResponse.TypeId]: ClientResponse.TypeId = ClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId

  constructor(
    readonly request: ClientRequest.HttpClientRequest,
    readonly status: number,
    readonly headers: Headers.Headers,
    readonly cookies: Cookies.Cookies,
    readonly remoteAddress: Option.Option<string>,
    readonly bytes: Uint8Array
  ) {
    super()
  }

  private decodeError(cause: unknown) {
    return new Error.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  get text(): Effect.Effect<string, Error.ResponseError> {
    return Effect.sync(() => decoder.decode(this.bytes))
  }

  get json(): Effect.Effect<unknown, Error.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => (text === "" ? null : JSON.parse(text)),
        catch: (cause) => this.decodeError(cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, Error.ResponseError> {
    return Effect.map(this.text, (text) => UrlParams.fromInput(new URLSearchParams(text)))
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, Error.ResponseError> {
    return Effect.sync(() => this.bytes.slice().buffer as ArrayBuffer)
  }

  get formData(): Effect.Effect<FormData, Error.ResponseError> {
    return Effect.tryPromise({
      try: () => new Response(this.bytes as Uint8Array<ArrayBuffer>, { headers: { ...this.headers } }).formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, Error.ResponseError> {
    return this.bytes.length === 0 ? Stream.empty : Stream.succeed(this.bytes)
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", buffered: true, status: this.status, headers: this.headers }
  }
}

// node:http's client hands back a Buffer here, the others an ArrayBuffer.
const toBytes = (body: ArrayBuffer | Uint8Array): Uint8Array => body instanceof Uint8Array ? body : new Uint8Array(body)

/**
 * Reads a response's whole body and returns a response that holds it. A
 * failure while reading is the client's own `ResponseError` "Decode".
 */
export const buffer = (
  response: ClientResponse.HttpClientResponse
): Effect.Effect<ClientResponse.HttpClientResponse, Error.ResponseError> =>
  Effect.map(
    response.arrayBuffer,
    (body) =>
      new BufferedResponse(
        response.request,
        response.status,
        response.headers,
        response.cookies,
        response.remoteAddress,
        toBytes(body)
      )
  )
