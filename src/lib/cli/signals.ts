// One AbortSignal for the life of a long-running command: the first SIGINT/SIGTERM aborts
// it (drain and exit 0); a second one means the user has stopped waiting, so exit at once.
export interface ShutdownSignal {
  signal: AbortSignal
  /** Which signal arrived, once one has. */
  received(): NodeJS.Signals | undefined
  dispose(): void
}

export function shutdownSignal(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): ShutdownSignal {
  // The command now owns these signals. `conf` (through atomically -> when-exit) hooks them on
  // import and re-raises the signal at the process after its cleanup, which would kill a
  // draining control plane on the first SIGTERM; its cleanup also runs on 'exit', so nothing
  // is lost by removing its signal listeners.
  for (const s of signals) process.removeAllListeners(s)
  const controller = new AbortController()
  let got: NodeJS.Signals | undefined
  const handler = (sig: NodeJS.Signals) => {
    if (got) process.exit(sig === 'SIGINT' ? 130 : 143)
    got = sig
    controller.abort(new Error(`received ${sig}`))
  }
  for (const s of signals) process.on(s, handler)
  return {
    signal: controller.signal,
    received: () => got,
    dispose: () => {
      for (const s of signals) process.off(s, handler)
    },
  }
}

export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), {once: true})
  })
}
