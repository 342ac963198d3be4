/**
 * effect-retry/http: a retrying HttpClient middleware for @effect/platform.
 *
 * @module effect-retry/http
 * @since 0.1.0
 */

/**
 * The retrying HttpClient middleware and the HTTP classification.
 *
 * @since 0.1.0
 */
export * as HttpRetry from "./HttpRetry.js"
