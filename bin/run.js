#!/usr/bin/env node
// Entry point: hands argv to oclif, which loads commands lazily from the manifest.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
