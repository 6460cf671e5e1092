// One `ambient run --mode kube --leader-elect` replica as users run it: the built CLI as a real
// process, against an Ambient API server and the fake Kubernetes API, its stdout split into
// lines as they arrive and its stderr (JSON logs) kept.
import {spawn, type ChildProcess} from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')

export interface ReplicaOptions {
  /** POD_NAME: the replica's identity in the Lease. */
  name: string
  apiUrl: string
  grpcAddress: string
  token: string
  kubeconfigPath: string
  /** Holds the replica's settings and state directories. */
  tmp: string
  args?: readonly string[]
  env?: Record<string, string>
}

export interface Replica {
  name: string
  child: ChildProcess
  stdout: string[]
  stderr(): string
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

export function startReplica(options: ReplicaOptions): Replica {
  const {name, tmp} = options
  const args = [
    'run',
    '--mode',
    'kube',
    '--leader-elect',
    '--json',
    '--server',
    options.apiUrl,
    '--token',
    options.token,
    '--kubeconfig',
    options.kubeconfigPath,
    '--metrics-addr',
    '0',
    '--probe-addr',
    '0',
    ...(options.args ?? []),
  ]
  const child = spawn(path.join(root, 'node_modules/.bin/node'), [path.join(root, 'bin/run.js'), ...args], {
    cwd: root,
    env: {
      ...process.env,
      AMBIENT_GRPC_SERVER_ADDR: options.grpcAddress,
      AMBIENT_CONFIG_DIR: path.join(tmp, `cfg-${name}`),
      AMBIENT_STATE_DIR: path.join(tmp, `state-${name}`),
      NAMESPACE: 'ambient-code',
      POD_NAME: name,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout: string[] = []
  let stderr = ''
  let buf = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString()
    const lines = buf.split('\n')
    buf = lines.pop() ?? ''
    stdout.push(...lines.filter(Boolean))
  })
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
    child.once('exit', (code, signal) => resolve({code, signal})),
  )
  return {name, child, stdout, stderr: () => stderr, exited}
}
