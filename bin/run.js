#!/usr/bin/env node
// Entry point: hands argv to oclif (commands load lazily from the manifest) through main(),
// which ends failures as one JSON log line when stderr is not a terminal.
import {fileURLToPath} from 'node:url'
import {main} from '../dist/lib/cli/main.js'

await main({root: fileURLToPath(new URL('..', import.meta.url))})
