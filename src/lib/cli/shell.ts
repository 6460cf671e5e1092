// oclif's shell detection at start-up, made safe for a uid without a passwd entry.

let shellHidden = false

/**
 * Without SHELL, oclif's start-up asks os.userInfo() for the login shell, which throws
 * (uv_os_get_passwd ENOENT) for a uid without a passwd entry. An empty SHELL gives oclif's
 * own "unknown" answer without that call. oclif loads its config again when it runs a command,
 * so the base command's init() removes SHELL again, before the command runs and so before any
 * child could inherit it.
 */
export function hideShellDetection(env: NodeJS.ProcessEnv = process.env): void {
  if (env.SHELL !== undefined) return
  env.SHELL = ''
  shellHidden = true
}

export function restoreShell(env: NodeJS.ProcessEnv = process.env): void {
  if (!shellHidden) return
  if (env.SHELL === '') delete env.SHELL
  shellHidden = false
}
