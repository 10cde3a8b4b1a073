// Types of @the-17/agentsecrets/langchain. Needs the optional peers
// @langchain/core (1.x) and zod.

import type { DynamicStructuredTool } from '@langchain/core/tools'
import type { AgentSecretsClient } from './index.js'
import type { ApiCallOptions, ApiCallInput, InjectionMap, PinOptions } from './lib/tools/types.js'

export type { ApiCallOptions, ApiCallInput, InjectionMap, PinOptions }

/** Options of `createApiCallTool()`. */
export interface ApiCallToolOptions extends ApiCallOptions {
  /** Tool name. Default `'api_call'`. */
  name?: string
}

/** Options of the spawn tool `run_with_secrets` (off unless given). */
export interface SpawnToolOptions {
  /** The only programs the model may run (as given to `client.spawn`). */
  commands: string[]
  /** Only these secrets go into their environment. Default: every secret of the project. */
  only?: string[]
  /** Kill after this many ms. Default 60000. */
  timeoutMs?: number
  /** Characters of output shown to the model. Default 16000. */
  maxOutputChars?: number
}

/** Options of `createSecretTools()`. */
export interface SecretToolsOptions {
  /** `list_secrets` shows only these names. */
  allowSecrets?: string | string[]
  /** `run_with_secrets`: off by default (`false`). */
  spawn?: false | SpawnToolOptions
}

/**
 * The `api_call` tool: the model gives `{ url, method?, headers?, body?,
 * injections }` and gets back text: the status and the redacted body
 * (truncated to `maxOutputChars`), or an error it can act on.
 */
export declare function createApiCallTool(client: AgentSecretsClient, options?: ApiCallToolOptions): DynamicStructuredTool

/** `list_secrets` (names only) and, with `spawn: { commands }`, `run_with_secrets`. */
export declare function createSecretTools(client: AgentSecretsClient, options?: SecretToolsOptions): DynamicStructuredTool[]
