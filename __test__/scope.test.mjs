// Per-request scope: the same key name in two projects (and two workspaces);
// concurrent clients scoped differently each get their own value, verified
// at the upstream, and the active project is unchanged afterwards.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ADMIN_PASSWORD, cli, makeHome, startEngine, startUpstream, stopEngine } from './helpers.mjs'
import { AgentSecrets } from '../index.mjs'

const VALUES = {
  default: 'cnry-scope-default-1',
  payments: 'cnry-scope-payments-2',
  acme: 'cnry-scope-acme-3',
}

let up
let home

before(async () => {
  up = await startUpstream()
  home = makeHome({ secrets: { KEY: VALUES.default } })
  cli(home, ['project', 'create', 'payments'])
  cli(home, ['secrets', 'set', 'KEY', '--project', 'payments'], VALUES.payments)
  cli(home, ['workspace', 'create', 'Acme Corp'])
  cli(home, ['secrets', 'set', 'KEY', '--workspace', 'Acme Corp', '--project', 'default'], VALUES.acme)
  cli(home, ['workspace', 'allowlist', 'add', '127.0.0.1', '--workspace', 'Acme Corp', '--password-stdin'], `${ADMIN_PASSWORD}\n`)
  startEngine(home)
})

after(async () => {
  stopEngine(home)
  await up.close()
})

function sentValue(rec) {
  return rec.headers.authorization?.replace(/^Bearer /, '')
}

describe('per-request scope', () => {
  it('concurrent differently scoped clients each get their own value', async () => {
    const plain = new AgentSecrets({ home, autoStart: false })
    const payments = new AgentSecrets({ home, autoStart: false, project: 'payments' })
    const acme = new AgentSecrets({ home, autoStart: false, workspace: 'Acme Corp' })
    const jobs = []
    for (let i = 0; i < 30; i++) {
      jobs.push(plain.call(`${up.url}/default/${i}`, { bearer: 'KEY' }))
      jobs.push(payments.call(`${up.url}/payments/${i}`, { bearer: 'KEY' }))
      jobs.push(acme.call(`${up.url}/acme/${i}`, { bearer: 'KEY' }))
      // Per-call scope overrides the client's.
      jobs.push(plain.call(`${up.url}/payments/call-${i}`, { bearer: 'KEY', project: 'payments' }))
    }
    await Promise.all(jobs)
    assert.equal(up.requests.length, 120)
    for (const rec of up.requests) {
      const which = rec.url.split('/')[1]
      assert.equal(sentValue(rec), VALUES[which], rec.url)
    }
    await Promise.all([plain.close(), payments.close(), acme.close()])
  })

  it('the active workspace and project are unchanged', () => {
    const status = JSON.parse(cli(home, ['--json', 'status']))
    assert.equal(status.workspaceName, 'Personal')
    assert.equal(status.projectName, 'default')
  })
})
