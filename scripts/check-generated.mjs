// CI check: the committed src/gen is exactly what `npm run proto` makes from proto/ (buf and the
// ts-proto plugin are local devDependencies, so this needs no network). Generates into a temp
// folder and compares, leaving the working tree alone.
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ambient-gen-'))
try {
  execFileSync(path.join(root, 'node_modules/.bin/buf'), ['generate', '-o', out], {cwd: root, stdio: ['ignore', 'inherit', 'inherit']})
  const list = (dir) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir, {recursive: true})
          .filter((f) => fs.statSync(path.join(dir, f)).isFile())
          .sort()
      : []
  const committed = list(path.join(root, 'src/gen'))
  const fresh = list(path.join(out, 'src/gen'))
  const problems = []
  for (const f of new Set([...committed, ...fresh])) {
    const a = path.join(root, 'src/gen', f)
    const b = path.join(out, 'src/gen', f)
    if (!fs.existsSync(a)) problems.push(`src/gen/${f}: missing (generated from proto/, not committed)`)
    else if (!fs.existsSync(b)) problems.push(`src/gen/${f}: committed, but nothing in proto/ generates it`)
    else if (!fs.readFileSync(a).equals(fs.readFileSync(b))) problems.push(`src/gen/${f}: differs from what proto/ generates`)
  }
  if (problems.length > 0) {
    console.error(`src/gen is out of date with proto/ (run \`npm run proto\` and commit):\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  console.log(`src/gen matches proto/ (${committed.length} files)`)
} finally {
  fs.rmSync(out, {recursive: true, force: true})
}
