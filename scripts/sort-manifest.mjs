// `oclif manifest` lists commands in the order its file walk finds them, which varies from run
// to run; sorted keys make the committed manifest reproducible (a build leaves git clean).
import fs from 'node:fs'

const file = new URL('../oclif.manifest.json', import.meta.url)
const manifest = JSON.parse(fs.readFileSync(file, 'utf8'))
const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
manifest.commands = sortKeys(manifest.commands)
fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
