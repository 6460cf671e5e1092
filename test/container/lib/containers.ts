// podman containers as the smoke test uses them: run with a plan from deployment.ts on the host
// network, kept after exit so `podman diff` can say what they wrote, then removed.
import {run, type CommandResult} from './proc.js'
import type {RunPlan} from './deployment.js'

export interface ContainerSpec {
  name: string
  image: string
  plan: RunPlan
  /** Replaces the Deployment's args (one-shot checks); default: the Deployment's own. */
  args?: string[]
  /** Extra environment on top of the plan's (one-shot checks that need a free port). */
  env?: Record<string, string>
}

function runArgs(spec: ContainerSpec, detach: boolean): string[] {
  const extraEnv = Object.entries(spec.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`])
  return [
    'run',
    ...(detach ? ['--detach'] : []),
    '--name',
    spec.name,
    '--network=host',
    '--pull=never',
    ...spec.plan.options,
    ...extraEnv,
    spec.image,
    ...(spec.args ?? spec.plan.args),
  ]
}

/** Runs to exit; the container stays for diff(). */
export async function runToExit(spec: ContainerSpec, timeoutMs = 120_000): Promise<CommandResult> {
  await remove(spec.name)
  return run('podman', runArgs(spec, false), {allowFailure: true, timeoutMs})
}

export async function start(spec: ContainerSpec): Promise<void> {
  await remove(spec.name)
  await run('podman', runArgs(spec, true), {timeoutMs: 60_000})
}

export async function logs(name: string): Promise<{stdout: string; stderr: string}> {
  const r = await run('podman', ['logs', name], {allowFailure: true, timeoutMs: 30_000})
  return {stdout: r.stdout, stderr: r.stderr}
}

export async function state(name: string): Promise<{running: boolean; exitCode: number}> {
  const r = await run('podman', ['inspect', '--format', '{{.State.Running}} {{.State.ExitCode}}', name], {timeoutMs: 30_000})
  const [running, exitCode] = r.stdout.trim().split(' ')
  return {running: running === 'true', exitCode: Number(exitCode)}
}

/** `podman stop -t <grace>`: SIGTERM, then SIGKILL after the grace period. */
export async function stop(name: string, graceSeconds: number): Promise<{ms: number}> {
  const r = await run('podman', ['stop', '-t', String(graceSeconds), name], {timeoutMs: (graceSeconds + 60) * 1000})
  return {ms: r.ms}
}

export interface Change {
  kind: 'added' | 'changed' | 'deleted'
  path: string
}

/** What the container changed in its own filesystem (volumes and mounts excluded by podman). */
export async function diff(name: string): Promise<Change[]> {
  const r = await run('podman', ['diff', '--format', 'json', name], {timeoutMs: 60_000})
  const json = (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as Partial<Record<Change['kind'], string[] | null>>
  const out: Change[] = []
  for (const kind of ['added', 'changed', 'deleted'] as const) for (const p of json[kind] ?? []) out.push({kind, path: p})
  return out
}

export async function remove(name: string): Promise<void> {
  await run('podman', ['rm', '--force', '--ignore', name], {allowFailure: true, timeoutMs: 60_000})
}
