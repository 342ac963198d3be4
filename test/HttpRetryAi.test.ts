/**
 * HttpRetry inside the real Effect AI provider clients (@effect/ai 0.37,
 * @effect/ai-anthropic 0.27, @effect/ai-openai 0.41), against a loopback
 * server of this test's own that answers as those APIs do: JSON, and
 * server-sent events. Anthropic and OpenAI are called as an agent calls them,
 * through `LanguageModel` (OpenAI's through the Responses API), and OpenAI's
 * client also directly.
 *
 * The client layer is undici's: over `NodeHttpClient.layer` (node:http), a
 * stream cut mid-way makes `AiError.HttpResponseError.fromResponseError`
 * re-read the body and hang (the AI package's defect, seen without
 * effect-retry too). Every call here is bounded by a timeout all the same.
 */
import { AiError, LanguageModel } from "@effect/ai"
import { AnthropicClient, AnthropicLanguageModel } from "@effect/ai-anthropic"
import { OpenAiClient, OpenAiLanguageModel } from "@effect/ai-openai"
import { HttpClientRequest, HttpServerResponse } from "@effect/platform"
import type { HttpServerRequest } from "@effect/platform"
import { NodeHttpClient, NodeHttpServerRequest } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Cause, Chunk, Effect, Exit, Layer, Option, Redacted, Schema, Stream } from "effect"
import { inspect } from "node:util"
import { RetryPolicy } from "../src/index.js"
import { HttpRetry } from "../src/http/index.js"
import { collectEvents } from "./helpers.js"
import { TestServer, TestServerLive } from "./support/server.js"

// The SDKs' shape with short delays, so the suite stays quick.
const policy = HttpRetry.llmPolicy.pipe(RetryPolicy.update({ baseDelay: "20 millis", maxDelay: "100 millis" }))

const recorder = collectEvents

/** Bounds a call: a hang fails the test (as a defect) instead of holding it. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.raceFirst(effect, Effect.zipRight(Effect.sleep("10 seconds"), Effect.dieMessage("the call hung")))

/** The tag of the typed failure an exit ended with (not a defect, not the test's own timeout). */
const typedFailure = (exit: Exit.Exit<unknown, unknown>): string | undefined =>
  Exit.isFailure(exit)
    ? Option.match(Cause.failureOption(exit.cause), {
      onNone: () => "no typed failure",
      onSome: (error) => typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : String(error)
    })
    : undefined

const CompletionChunk = Schema.Struct({
  object: Schema.Literal("chat.completion.chunk"),
  choices: Schema.Array(Schema.Struct({ delta: Schema.Struct({ content: Schema.String }) }))
})

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Effect.succeed(HttpServerResponse.unsafeJson(body, { status, headers }))

// -----------------------------------------------------------------------------
// Anthropic
// -----------------------------------------------------------------------------

const anthropicMessage = (text: string) => ({
  id: "msg_01",
  type: "message",
  role: "assistant",
  model: "claude-test",
  content: [{ type: "text", text }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 5, output_tokens: 3 }
})

const anthropicError = (type: string, message: string) => ({ type: "error", error: { type, message } })

const sse = (events: ReadonlyArray<{ readonly event: string; readonly data: unknown }>) =>
  events.map(({ data, event }) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("")

const anthropicStreamEvents = (words: ReadonlyArray<string>) => [
  { event: "message_start", data: { type: "message_start", message: { ...anthropicMessage(""), content: [], stop_reason: null } } },
  { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
  ...words.map((word) => ({
    event: "content_block_delta",
    data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: word } }
  })),
  { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
  {
    event: "message_delta",
    data: { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 3 } }
  },
  { event: "message_stop", data: { type: "message_stop" } }
]

/** A whole event stream. */
const eventStream = (body: string) =>
  Effect.succeed(HttpServerResponse.text(body, { contentType: "text/event-stream" }))

/** A 503 with an error body on the first hit, then a whole event stream. */
const unavailableThenStream = (error: unknown, events: Parameters<typeof sse>[0]) => (_: unknown, hit: number) =>
  hit === 1 ? json(503, error) : eventStream(sse(events))

/** The first events of a stream, then the connection is destroyed. */
const cutStream = (body: string) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => {
    const response = NodeHttpServerRequest.toServerResponse(request)
    response.writeHead(200, { "content-type": "text/event-stream" })
    response.write(body, () => setTimeout(() => response.socket?.destroy(), 50))
  }).pipe(Effect.zipRight(Effect.never))

// attemptTimeout included: every option fits transformClient without a cast.
const anthropicLayer = (apiUrl: string, options: HttpRetry.Options = { attemptTimeout: "5 seconds" }, apiKey = "sk-ant-test-key") =>
  AnthropicLanguageModel.layer({ model: "claude-test" }).pipe(
    Layer.provide(AnthropicClient.layer({
      apiKey: Redacted.make(apiKey),
      apiUrl,
      transformClient: HttpRetry.llm(policy, options)
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

layer(TestServerLive, { excludeTestServices: true })("HttpRetry.llm inside AnthropicClient", (it) => {
  const ask = (options: HttpRetry.Options = {}, apiKey?: string) =>
    Effect.gen(function*() {
      const server = yield* TestServer
      return yield* bounded(
        LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(anthropicLayer(server.url(""), options, apiKey)))
      )
    })

  it.effect("a 429 with retry-after and rate-limit headers is retried after the hint, then answers", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      const now = Date.now()
      yield* server.script((_, hit) =>
        hit === 1
          ? json(429, anthropicError("rate_limit_error", "slow down"), {
            "retry-after": "1",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": new Date(now + 1000).toISOString()
          })
          : json(200, anthropicMessage("hello"))
      )
      const { events, onEvent } = recorder()
      const response = yield* ask({ onEvent })
      expect(response.text).toBe("hello")
      const hits = server.hits()
      expect(hits.map((hit) => hit.method)).toEqual(["POST", "POST"])
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(1000)
      expect(events).toMatchObject([
        { _tag: "Retrying", delayFrom: "retry-after", http: { method: "POST", status: 429 } },
        { _tag: "Succeeded", attempts: 2 }
      ])
    }))

  for (const status of [529, 500]) {
    it.effect(`a ${status} is retried`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script((_, hit) =>
          hit === 1 ? json(status, anthropicError("overloaded_error", "Overloaded")) : json(200, anthropicMessage("fine"))
        )
        const response = yield* ask()
        expect(response.text).toBe("fine")
        expect(server.hits()).toHaveLength(2)
      }))
  }

  for (const status of [400, 401]) {
    it.effect(`a ${status} is sent once and fails typed`, () =>
      Effect.gen(function*() {
        const server = yield* TestServer
        yield* server.script(() => json(status, anthropicError("invalid_request_error", "bad")))
        const error = yield* Effect.flip(ask())
        expect(error._tag).toBe("HttpResponseError")
        expect(server.hits()).toHaveLength(1)
      }))
  }

  it.effect("a 503 before a stream is retried, and the stream arrives whole", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script(unavailableThenStream(anthropicError("api_error", "unavailable"), anthropicStreamEvents(["Hel", "lo"])))
      const parts = yield* Effect.gen(function*() {
        const server = yield* TestServer
        return yield* bounded(
          LanguageModel.streamText({ prompt: "hi" }).pipe(
            Stream.runCollect,
            Effect.provide(anthropicLayer(server.url("")))
          )
        )
      })
      const text = Chunk.toArray(parts).flatMap((part) => part.type === "text-delta" ? [part.delta] : []).join("")
      expect(text).toBe("Hello")
      expect(server.hits()).toHaveLength(2)
    }))

  it.effect("a stream cut after a few events is not retried: the caller sees them, then a typed failure", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      const events = anthropicStreamEvents(["one ", "two ", "three"]).slice(0, 4) // start, block start, two deltas
      yield* server.script(cutStream(sse(events)))
      const seen: Array<string> = []
      const exit = yield* bounded(
        LanguageModel.streamText({ prompt: "hi" }).pipe(
          Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && seen.push(part.delta))),
          Effect.provide(anthropicLayer(server.url(""))),
          Effect.exit
        )
      )
      expect(seen).toEqual(["one ", "two "])
      expect(typedFailure(exit)).toBe("HttpResponseError")
      expect(server.hits()).toHaveLength(1)
    }))

  it.effect("an API key with a newline: no request, a typed error, the key never printed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script(() => json(200, anthropicMessage("never")))
      const key = "sk-ant-secret-4242\n"
      const error = yield* Effect.flip(ask({}, key))
      expect(server.hits()).toHaveLength(0)
      expect(error._tag).toBe("HttpRequestError")
      for (const text of [String(error), error.message, JSON.stringify(error), inspect(error, { depth: 10 })]) {
        expect(text).not.toContain("sk-ant-secret-4242")
      }
    }))
})

// -----------------------------------------------------------------------------
// OpenAI
// -----------------------------------------------------------------------------

const embedding = {
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
  model: "text-embedding-test",
  usage: { prompt_tokens: 2, total_tokens: 2 }
}

/** OpenAI's 429 when the tokens budget ran out (resets in 600 ms) and the requests budget did not (12 ms). */
const tokensExhausted = () =>
  json(429, { error: { message: "Rate limit reached", type: "tokens" } }, {
    "x-ratelimit-remaining-requests": "499",
    "x-ratelimit-reset-requests": "12ms",
    "x-ratelimit-remaining-tokens": "0",
    "x-ratelimit-reset-tokens": "600ms"
  })

const openAiLayer = (apiUrl: string, options: HttpRetry.Options = {}) =>
  OpenAiClient.layer({ apiKey: Redacted.make("sk-test"), apiUrl, transformClient: HttpRetry.llm(policy, options) }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )

layer(TestServerLive, { excludeTestServices: true })("HttpRetry.llm inside OpenAiClient", (it) => {
  const embed = Effect.gen(function*() {
    const server = yield* TestServer
    return yield* bounded(
      Effect.flatMap(OpenAiClient.OpenAiClient, (client) => client.createEmbedding({ model: "text-embedding-test", input: "hi" })).pipe(
        Effect.provide(openAiLayer(server.url("")))
      )
    )
  })

  it.effect("a 429 waits for the exhausted tokens budget, not the requests budget", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script((_, hit) =>
        hit === 1
          ? tokensExhausted()
          : json(200, embedding)
      )
      const response = yield* embed
      expect(response.data[0]?.embedding).toEqual([0.1, 0.2])
      const hits = server.hits()
      expect(hits).toHaveLength(2)
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(600)
    }))

  it.effect("x-should-retry: false on a 500 is not retried; retry-after-ms on a 503 is honoured", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script(() => json(500, { error: { message: "no" } }, { "x-should-retry": "false" }))
      const error = yield* Effect.flip(embed)
      expect(error._tag).toBe("HttpResponseError")
      expect(server.hits()).toHaveLength(1)
      yield* server.script((_, hit) => hit === 1 ? json(503, { error: { message: "busy" } }, { "retry-after-ms": "300" }) : json(200, embedding))
      yield* embed
      const hits = server.hits()
      expect(hits).toHaveLength(2)
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(300)
    }))

  it.effect("a stream cut after a few events is not retried", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      const chunk = (content: string) => ({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: { content }, finish_reason: null }]
      })
      yield* server.script(cutStream([chunk("one "), chunk("two ")].map((c) => `data: ${JSON.stringify(c)}\n\n`).join("")))
      const seen: Array<unknown> = []
      const exit = yield* bounded(
        Effect.flatMap(OpenAiClient.OpenAiClient, (client) =>
          client.streamRequest(
            HttpClientRequest.post("/chat/completions").pipe(HttpClientRequest.bodyUnsafeJson({ model: "m", stream: true })),
            CompletionChunk
          ).pipe(Stream.runForEach((event) => Effect.sync(() => seen.push(event))))).pipe(
            Effect.provide(openAiLayer(server.url(""))),
            Effect.exit
          )
      )
      expect(seen).toHaveLength(2)
      expect(typedFailure(exit)).toBe("HttpResponseError")
      expect(server.hits()).toHaveLength(1)
    }))
})

// -----------------------------------------------------------------------------
// OpenAI, through LanguageModel (OpenAiLanguageModel, the Responses API)
// -----------------------------------------------------------------------------

/** A Responses API `Response` with the fields its schema requires, and one message when there is text. */
const openAiResponse = (status: "in_progress" | "completed", text?: string) => ({
  id: "resp_01",
  object: "response",
  status,
  created_at: 1700000000,
  error: null,
  incomplete_details: null,
  output: text === undefined ? [] : [openAiMessage("completed", text)],
  instructions: null,
  model: "gpt-test",
  parallel_tool_calls: true,
  tools: [],
  tool_choice: "auto",
  metadata: null,
  temperature: null,
  top_p: null,
  ...(status === "completed"
    ? {
      usage: {
        input_tokens: 5,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 3,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 8
      }
    }
    : {})
})

const openAiMessage = (status: "in_progress" | "completed", text?: string) => ({
  id: "msg_01",
  type: "message",
  role: "assistant",
  status,
  content: text === undefined ? [] : [{ type: "output_text", text, annotations: [] }]
})

/** The events of a Responses API stream that says `words`, in order, each numbered. */
const openAiStreamEvents = (words: ReadonlyArray<string>) =>
  [
    { type: "response.created", response: openAiResponse("in_progress") },
    { type: "response.output_item.added", output_index: 0, item: openAiMessage("in_progress") },
    {
      type: "response.content_part.added",
      output_index: 0,
      content_index: 0,
      item_id: "msg_01",
      part: { type: "output_text", text: "", annotations: [] }
    },
    ...words.map((delta) => ({ type: "response.output_text.delta", output_index: 0, content_index: 0, item_id: "msg_01", delta })),
    { type: "response.output_text.done", output_index: 0, content_index: 0, item_id: "msg_01", text: words.join("") },
    { type: "response.output_item.done", output_index: 0, item: openAiMessage("completed", words.join("")) },
    { type: "response.completed", response: openAiResponse("completed", words.join("")) }
  ].map((event, sequence_number) => ({ event: event.type, data: { ...event, sequence_number } }))

const openAiLanguageModelLayer = (apiUrl: string, options: HttpRetry.Options = {}) =>
  OpenAiLanguageModel.layer({ model: "gpt-test" }).pipe(
    Layer.provide(OpenAiClient.layer({
      apiKey: Redacted.make("sk-test"),
      apiUrl,
      transformClient: HttpRetry.llm(policy, options)
    })),
    Layer.provide(NodeHttpClient.layerUndici)
  )

layer(TestServerLive, { excludeTestServices: true })("HttpRetry.llm inside OpenAiLanguageModel", (it) => {
  const generate = Effect.gen(function*() {
    const server = yield* TestServer
    return yield* bounded(
      LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(openAiLanguageModelLayer(server.url(""))))
    )
  })

  /** Runs streamText; `parts` gets each part's type, and a text delta's text after a colon. */
  const streamParts = (parts: Array<string>) =>
    Effect.gen(function*() {
      const server = yield* TestServer
      return yield* bounded(
        LanguageModel.streamText({ prompt: "hi" }).pipe(
          Stream.runForEach((part) =>
            Effect.sync(() => parts.push(part.type === "text-delta" ? `text-delta:${part.delta}` : part.type))
          ),
          Effect.provide(openAiLanguageModelLayer(server.url(""))),
          Effect.exit
        )
      )
    })

  it.effect("generateText: a 429 waits for the exhausted tokens budget, then answers", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script((_, hit) =>
        hit === 1
          ? tokensExhausted()
          : json(200, openAiResponse("completed", "hello"))
      )
      const response = yield* generate
      expect(response.text).toBe("hello")
      const hits = server.hits()
      expect(hits.map((hit) => `${hit.method} ${hit.url}`)).toEqual(["POST /responses", "POST /responses"])
      expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(600)
    }))

  it.effect("generateText: a 400 is sent once and fails typed", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script(() => json(400, { error: { message: "bad", type: "invalid_request_error" } }))
      const exit = yield* Effect.exit(generate)
      expect(typedFailure(exit)).toBe("HttpResponseError")
      expect(Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), AiError.isAiError)).toBe(true)
      expect(server.hits()).toHaveLength(1)
    }))

  it.effect("streamText: a stream cut after a few events is not retried: the caller sees them, then a typed failure", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      const events = openAiStreamEvents(["one ", "two ", "three"]).slice(0, 5) // created, item added, part added, two deltas
      yield* server.script(cutStream(sse(events)))
      const parts: Array<string> = []
      const exit = yield* streamParts(parts)
      // response-metadata comes from response.created: the events were decoded, not skipped
      expect(parts).toEqual(["response-metadata", "text-start", "text-delta:one ", "text-delta:two "])
      expect(typedFailure(exit)).toBe("HttpResponseError")
      expect(server.hits()).toHaveLength(1)
    }))

  it.effect("streamText: a 503 before the stream is retried, and the stream arrives whole", () =>
    Effect.gen(function*() {
      const server = yield* TestServer
      yield* server.script(
        unavailableThenStream({ error: { message: "unavailable", type: "server_error" } }, openAiStreamEvents(["Hel", "lo"]))
      )
      const parts: Array<string> = []
      const exit = yield* streamParts(parts)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(parts).toEqual(["response-metadata", "text-start", "text-delta:Hel", "text-delta:lo", "text-end", "finish"])
      expect(server.hits()).toHaveLength(2)
    }))
})
