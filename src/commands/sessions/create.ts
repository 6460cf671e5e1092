import {Flags} from '@oclif/core'
import type {Session, SessionSpec} from '../../lib/api/types.js'
import {ApiCommand, FlagError, checkRepos, checkStringMap, envFlag, jsonFlag} from '../../lib/cli/client.js'

export default class SessionsCreate extends ApiCommand {
  static override summary = 'Create a session.'
  static override description = 'The project defaults to AMBIENT_API_PROJECT. JSON flags are checked before anything is sent.'
  static override examples = [
    '<%= config.bin %> sessions create --name fix-login --prompt "Fix the login bug" --repo-url https://github.com/acme/web',
    `<%= config.bin %> sessions create --name review --repos '[{"url":"https://github.com/acme/api","branch":"main"}]' --env DEBUG=1 --json`,
  ]
  static override flags = {
    name: Flags.string({char: 'n', required: true, description: 'Session name.'}),
    prompt: Flags.string({description: 'Initial prompt.'}),
    'repo-url': Flags.string({description: 'Repository URL (single repo).'}),
    project: Flags.string({char: 'p', description: 'Project id, i.e. its name (env AMBIENT_API_PROJECT).'}),
    model: Flags.string({description: 'LLM model.'}),
    temperature: Flags.string({description: 'LLM temperature, e.g. 0.7.'}),
    'max-tokens': Flags.integer({min: 1, description: 'LLM max tokens.'}),
    timeout: Flags.integer({min: 1, description: 'Timeout in seconds.'}),
    repos: Flags.string({description: 'Repositories as JSON: [{"url":...,"branch"?:...,"autoPush"?:bool}].'}),
    labels: Flags.string({description: 'Labels as a JSON object of strings.'}),
    annotations: Flags.string({description: 'Annotations as a JSON object of strings.'}),
    env: Flags.string({char: 'e', multiple: true, description: 'Environment variable KEY=VAL for the runner (repeatable).'}),
  }

  async run(): Promise<Session> {
    const {flags} = await this.parse(SessionsCreate)
    const config = this.apiSettings(flags)
    const spec: SessionSpec = {
      name: flags.name,
      prompt: flags.prompt,
      repo_url: flags['repo-url'],
      project_id: flags.project ?? config.AMBIENT_API_PROJECT,
      llm_model: flags.model,
      llm_temperature: parseTemperature(flags.temperature),
      llm_max_tokens: flags['max-tokens'],
      timeout: flags.timeout,
      repos: jsonFlag('repos', flags.repos, checkRepos),
      labels: jsonFlag('labels', flags.labels, checkStringMap),
      annotations: jsonFlag('annotations', flags.annotations, checkStringMap),
      environment_variables: envFlag('env', flags.env),
    }
    const session = await this.restClient(flags).create('sessions', dropUndefined(spec))
    this.log(`session ${session.id} created (${session.name})`)
    return session
  }
}

function parseTemperature(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new FlagError('temperature', `expected a number >= 0, got ${JSON.stringify(raw)}`)
  return value
}

function dropUndefined<T extends object>(spec: T): T {
  return Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as T
}
