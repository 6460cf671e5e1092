// The peers of the container on the host, on loopback: an Ambient API server (the built CLI's
// `api-server`, in its own process) and the test Kubernetes API (test/fake-kube, compiled with
// this test). A container on the host network reaches both at 127.0.0.1.
import {spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {startFakeKube, type FakeKube} from '../../fake-kube/index.js'

export interface ApiServerProcess {
  url: string
  basePath: string
  grpcAddress: string
  token: string
  close(): Promise<void>
}

export async function startHostApiServer(repoRoot: string, token: string): Promise<ApiServerProcess> {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-smoke-api-'))
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/run.js'), 'api-server', '--port', '0', '--grpc-port', '0', '--token', token, '--no-remember', '--json'],
    {cwd: repoRoot, env: {...process.env, LOG_LEVEL: 'warn', AMBIENT_CONFIG_DIR: configDir}, stdio: ['ignore', 'pipe', 'inherit']},
  )
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    fs.rmSync(configDir, {recursive: true, force: true})
  }
  const ready = await new Promise<{url: string; basePath: string; grpcAddress: string}>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('api-server: no READY line within 30 s')), 30_000)
    child.once('exit', (code) => reject(new Error(`api-server exited with ${code} before it was ready`)))
    createInterface({input: child.stdout!}).once('line', (line) => {
      clearTimeout(timer)
      resolve(JSON.parse(line) as {url: string; basePath: string; grpcAddress: string})
    })
  }).catch(async (err: unknown) => {
    await close()
    throw err
  })
  return {...ready, token, close}
}

/** REST calls of a user of the API server (POST and GET as JSON, bearer token). */
export function apiClient(api: ApiServerProcess) {
  const call = async <T>(method: string, resource: string, body?: object): Promise<T> => {
    const res = await fetch(`${api.url}${api.basePath}/${resource}`, {
      method,
      headers: {authorization: `Bearer ${api.token}`, 'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} /${resource}: HTTP ${res.status} ${text.slice(0, 300)}`)
    return JSON.parse(text) as T
  }
  return {
    create: <T>(resource: string, body: object) => call<T>('POST', resource, body),
    get: <T>(resource: string) => call<T>('GET', resource),
  }
}

export interface KubeFixture {
  kube: FakeKube
  /** A copy of the kubeconfig the container can read (0644). */
  kubeconfig: string
  close(): Promise<void>
}

export async function startKube(deployDir: string, namespaces: string[]): Promise<KubeFixture> {
  // The CRD of the commit under test (the compiled fake would look next to itself).
  const kube = await startFakeKube({namespaces: ['default', ...namespaces], crdPaths: [path.join(deployDir, 'crd.yaml')]})
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-smoke-kube-'))
  fs.chmodSync(dir, 0o755)
  const kubeconfig = path.join(dir, 'kubeconfig')
  fs.copyFileSync(kube.kubeconfigPath, kubeconfig)
  fs.chmodSync(kubeconfig, 0o644)
  return {
    kube,
    kubeconfig,
    close: async () => {
      await kube.close()
      fs.rmSync(dir, {recursive: true, force: true})
    },
  }
}
