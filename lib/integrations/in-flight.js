'use strict'

// Counting a server's tool calls that are still running, so that the stdio
// server can stop only after answering them.

/**
 * Tool calls still running, per server: a client may send its last request
 * and close stdin at once, and still expects the answer.
 * @type {WeakMap<object, { running: number, idle: Array<() => void> }>}
 */
const inFlight = new WeakMap()

/** @param {object} server */
function inFlightOf(server) {
  let state = inFlight.get(server)
  if (!state) {
    state = { running: 0, idle: [] }
    inFlight.set(server, state)
  }
  return state
}

/**
 * Counts `handler`'s runs as in flight on `server`.
 * @template {unknown[]} A
 * @template R
 * @param {object} server
 * @param {(...args: A) => Promise<R>} handler
 * @returns {(...args: A) => Promise<R>}
 */
function tracked(server, handler) {
  const state = inFlightOf(server)
  return async (...args) => {
    state.running++
    try {
      return await handler(...args)
    } finally {
      state.running--
      if (state.running === 0) for (const resolve of state.idle.splice(0)) resolve()
    }
  }
}

/**
 * Resolves when no tool call of `server` is running.
 * @param {object} server
 * @returns {Promise<void>}
 */
function whenIdle(server) {
  const state = inFlightOf(server)
  if (state.running === 0) return Promise.resolve()
  return new Promise((resolve) => state.idle.push(resolve))
}

module.exports = { tracked, whenIdle }
