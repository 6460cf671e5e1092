// The runner's environment is built from an allowlist, never inherited: a runner executes
// agent code and must not see the control plane's own secrets (AMBIENT_API_TOKEN, cloud keys...).
import type {Session} from '../api/types.js'

/** Host variables passed through by exact name (contract 4). */
export const HOST_ENV_NAMES: ReadonlySet<string> = new Set([
  'HOME',
  'PATH',
  'USER',
  'SHELL',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'GOPATH',
  'GOROOT',
  'SSH_AUTH_SOCK',
  // Proxy settings, in both spellings tools use.
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
])

/** Host variables passed through by prefix (contract 4). */
export const HOST_ENV_PREFIXES: readonly string[] = ['ANTHROPIC_', 'CLAUDE_', 'GOOGLE_', 'GITHUB_', 'GITLAB_', 'GIT_']

export function isHostEnvAllowed(name: string): boolean {
  return HOST_ENV_NAMES.has(name) || HOST_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))
}

/** `BOSS_AGENT_NAME`: lower case, runs of anything else than [a-z0-9] become one '-', no edge dashes. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

export interface RunnerEnvInput {
  hostEnv: NodeJS.ProcessEnv
  session: Pick<Session, 'id' | 'name' | 'prompt' | 'llm_model' | 'llm_temperature' | 'llm_max_tokens' | 'timeout' | 'repos' | 'project_id'>
  port: number
  workspace: string
  token: string
  extraEnv?: {BOSS_URL?: string; BOSS_SPACE?: string}
}

/**
 * The complete environment of a runner. The session's `environment_variables` are NOT
 * passed: the contract does not list them and they would bypass the allowlist.
 */
export function buildRunnerEnv(input: RunnerEnvInput): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(input.hostEnv)) {
    if (value !== undefined && isHostEnvAllowed(name)) env[name] = value
  }
  const {session} = input
  const set = (name: string, value: string | number | undefined | null) => {
    if (value !== undefined && value !== null && value !== '') env[name] = String(value)
  }
  set('SESSION_ID', session.id)
  set('AGUI_PORT', input.port)
  set('AGUI_TOKEN', input.token)
  set('WORKSPACE_PATH', input.workspace)
  set('BOSS_URL', input.extraEnv?.BOSS_URL)
  set('BOSS_SPACE', input.extraEnv?.BOSS_SPACE)
  set('AGENTIC_SESSION_NAME', session.name)
  set('BOSS_AGENT_NAME', session.name ? slugify(session.name) : undefined)
  set('INITIAL_PROMPT', session.prompt)
  set('LLM_MODEL', session.llm_model)
  set('LLM_TEMPERATURE', session.llm_temperature)
  set('LLM_MAX_TOKENS', session.llm_max_tokens)
  set('SESSION_TIMEOUT', session.timeout)
  set('REPOS_JSON', session.repos)
  set('PROJECT_NAME', session.project_id)
  return env
}
