// The built-in echo runner as a runner command: `ambient run --embedded` uses it when no
// LOCAL_RUNNER_COMMAND is configured, so local mode works out of the box. Absolute paths,
// because the runner's working directory is its workspace.
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/** The repository (or installed package) root: this file is <root>/{src,dist}/lib/reconcilers/local/. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../../../', import.meta.url))
}

/** `[<node>, <root>/bin/run.js, 'echo-runner']`: the CLI's echo runner, under the running Node. */
export function echoRunnerCommand(): string[] {
  return [process.execPath, path.join(packageRoot(), 'bin', 'run.js'), 'echo-runner']
}
