import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as ClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { withoutUserinfo } from "./url.js"

/**
 * Whether a request body can be sent again byte for byte. Bytes, text, JSON,
 * URL parameters and form data are held in memory (a `Blob` in form data can
 * be read any number of times); a `Stream` body may be a one-shot source (an
 * async iterator, a Node `Readable`) that a second attempt would find empty,
 * and a `Raw` body is replayable only when it is a value in memory.
 */
export const isReplayable = (body: HttpBody.HttpBody): boolean => {
  switch (body._tag) {
    case "Empty":
    case "Uint8Array":
    case "FormData":
      return true
    case "Raw":
      return isInMemory(body.body)
    case "Stream":
      return false
  }
}

const isInMemory = (value: unknown): boolean =>
  typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer ||
  ArrayBuffer.isView(value) || value instanceof URLSearchParams || (typeof Blob !== "undefined" && value instanceof Blob)

/** Whether a stream body may be read into memory under `maxBytes`: a declared length over the limit says no before reading. */
export const mayBuffer = (body: HttpBody.HttpBody, maxBytes: number): body is HttpBody.Stream =>
  body._tag === "Stream" && (body.contentLength === undefined || body.contentLength <= maxBytes)

/**
 * Reads a stream body into memory, so that every attempt sends the same
 * bytes. A body longer than `maxBytes` is not truncated: reading stops and
 * the call fails with `RequestError` "Encode" before anything is sent. A
 * failure of the body's own stream is the same `RequestError` "Encode" the
 * platform's clients raise for it.
 */
export const bufferBody = (
  request: ClientRequest.HttpClientRequest,
  body: HttpBody.Stream,
  maxBytes: number
): Effect.Effect<ClientRequest.HttpClientRequest, HttpClientError.RequestError> => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  return Stream.runForEachWhile(body.stream, (chunk) =>
    Effect.sync(() => {
      size += chunk.length
      if (size > maxBytes) return false
      chunks.push(chunk)
      return true
    })).pipe(
      Effect.mapError((cause) => new HttpClientError.RequestError({ request: withoutUserinfo(request), reason: "Encode", cause })),
      Effect.flatMap(() => {
        if (size > maxBytes) {
          return Effect.fail(
            new HttpClientError.RequestError({
              request: withoutUserinfo(request),
              reason: "Encode",
              description:
                `the request body is longer than bufferRequestBody.maxBytes (${maxBytes}); it was not sent, since it could not be replayed whole`
            })
          )
        }
        const bytes = new Uint8Array(size)
        let offset = 0
        for (const chunk of chunks) {
          bytes.set(chunk, offset)
          offset += chunk.length
        }
        return Effect.succeed(ClientRequest.setBody(request, HttpBody.uint8Array(bytes, body.contentType)))
      })
    )
}
