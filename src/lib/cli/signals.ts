// One AbortSignal for the life of a long-running command: the first SIGINT/SIGTERM aborts
// it (drain and exit 0); a second one means the user has stopped waiting, so exit at once.
export interface ShutdownSignal {
  signal: AbortSignal
  /** Which signal arrived, once one has. */
  received(): NodeJS.Signals | undefined
  dispose(): void
}

export function shutdownSignal(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): ShutdownSignal {
  const controller = new AbortController()
  let got: NodeJS.Signals | undefined
  const handler = (sig: NodeJS.Signals) => {
    if (got) process.exit(sig === 'SIGINT' ? 130 : 143)
    got = sig
    controller.abort(new Error(`received ${sig}`))
  }
  for (const s of signals) {
    // The command now owns these signals. `conf` (through atomically -> when-exit) hooks them
    // on import and, after its cleanup, re-raises the signal at the process, which would kill a
    // draining control plane on the first SIGTERM; that cleanup also runs on 'exit', so nothing
    // is lost by removing its listeners. Ours goes in FIRST: Node watches a signal while any
    // listener remains, so a signal already caught (waiting in the event loop for dispatch)
    // reaches us; removing the others first would stop the watch and drop it.
    const others = process.listeners(s).filter((l) => l !== handler)
    process.on(s, handler)
    for (const l of others) process.off(s, l as (sig: NodeJS.Signals) => void)
  }
  return {
    signal: controller.signal,
    received: () => got,
    dispose: () => {
      for (const s of signals) process.off(s, handler)
    },
  }
}

/** Runs `fn` with SIGINT/SIGTERM owned from the start (none lost), and hands them back after. */
export async function withShutdownSignal<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const shutdown = shutdownSignal()
  try {
    return await fn(shutdown.signal)
  } finally {
    shutdown.dispose()
  }
}
