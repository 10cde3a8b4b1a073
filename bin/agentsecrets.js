#!/usr/bin/env node
'use strict'

// `agentsecrets`: runs the engine binary installed with this package (found as
// the SDK's auto-start finds it, see lib/platform.js) with the same arguments
// and stdio, forwards signals to it, and ends as it ended: the same exit
// code, or death by the same signal.

const { spawn } = require('node:child_process')
const os = require('node:os')
const tty = require('node:tty')
const { findEngine } = require('../lib/platform.js')

/** @type {NodeJS.Signals[]} */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']
// Ctrl-C and Ctrl-\ on a terminal reach the whole foreground process group,
// the engine included; forwarding them as well would deliver them twice. The
// engine's `env` skips them for its child the same way (crates/engine/src/envrun).
const FROM_TERMINAL = new Set(['SIGINT', 'SIGQUIT'])
const onTerminal = tty.isatty(0)
// Signals whose default action ends a Node process; others (SIGUSR1 starts
// the inspector) are reported as exit code 128 + N instead of re-raised.
const FATAL_BY_DEFAULT = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGKILL', 'SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGALRM', 'SIGPIPE'])

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

const found = findEngine()
if ('error' in found) fail(found.error)
const engine = found

// Handlers first, so that a signal arriving while the engine starts is not
// fatal to the launcher alone; they run from the event loop, so after the
// synchronous spawn below has set `child`.
/** @type {import('node:child_process').ChildProcess | null} */
let child = null
const handlers = new Map()
for (const sig of FORWARDED) {
  const forward = () => {
    if (onTerminal && FROM_TERMINAL.has(sig)) return
    try {
      child?.kill(sig)
    } catch {
      // Already gone: its exit is handled below.
    }
  }
  handlers.set(sig, forward)
  process.on(sig, forward)
}

child = spawn(engine.path, process.argv.slice(2), { stdio: 'inherit' })

child.on('error', (e) => fail(`agentsecrets: cannot run the engine ${engine.path}: ${e.message}`))

child.on('exit', (code, signal) => {
  for (const [sig, forward] of handlers) process.removeListener(sig, forward)
  if (signal === null) process.exit(code ?? 1)
  const number = os.constants.signals[signal] ?? 0
  if (FATAL_BY_DEFAULT.has(signal)) {
    process.kill(process.pid, signal)
    // A signal takes effect asynchronously; should it not end us, exit as a shell would report it.
    setTimeout(() => process.exit(128 + number), 1000).unref()
  } else {
    process.exit(128 + number)
  }
})
