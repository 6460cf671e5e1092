// oclif's init hook runs after its start-up and before the command: the place to undo what
// start-up needed (see hideShellDetection in src/lib/cli/main.ts).
import type {Hook} from '@oclif/core'
import {restoreShell} from '../lib/cli/main.js'

const hook: Hook.Init = async function () {
  restoreShell()
}

export default hook
