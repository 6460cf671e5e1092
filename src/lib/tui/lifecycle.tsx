// Mounting and unmounting the live views. One root component owns the only exit() call: an
// abort of the command's signal, or `q` / Ctrl-C when the terminal can deliver keys, ends
// the view; children only render.
import {render, useApp, useInput, useStdin} from 'ink'
import {useEffect, useRef, useState, type ReactNode} from 'react'

export interface TerminalStreams {
  /**
   * Force Ink's interactive (redrawing) mode on or off. By default Ink decides: a TTY, and not
   * in CI. The commands only mount a view once they have decided on a live terminal.
   */
  interactive?: boolean
  /** Where the view is drawn; defaults to process.stdout. */
  stdout?: NodeJS.WritableStream
  /** Where keys are read from; defaults to process.stdin. Keys only work on a raw-mode TTY. */
  stdin?: NodeJS.ReadableStream
  stderr?: NodeJS.WritableStream
}

export interface QuitOptions {
  /** Unmounts the view when aborted. */
  signal: AbortSignal
  /**
   * Called on each `q` / Ctrl-C (raw-mode terminals only: elsewhere Ctrl-C is a SIGINT the
   * command handles). A second press arrives as a second call, so a command may escalate.
   */
  onQuit?: () => void
  /**
   * Keep drawing after a quit key until `signal` aborts, so a "stopping…" banner stays
   * visible while the command drains. Default false: a quit key also unmounts the view.
   */
  keepOpenOnQuit?: boolean
}

export interface ViewControls {
  /** Keys are read (raw mode supported): the view may show its key hints. */
  keysEnabled: boolean
  /** A quit key was pressed. */
  quitting: boolean
}

interface ViewRootProps extends QuitOptions {
  children: (controls: ViewControls) => ReactNode
}

export function ViewRoot({signal, onQuit, keepOpenOnQuit = false, children}: ViewRootProps) {
  const {exit} = useApp()
  const {isRawModeSupported} = useStdin()
  const [done, setDone] = useState(signal.aborted)
  const [quitting, setQuitting] = useState(false)
  // The latest callback without re-subscribing to input on every render.
  const onQuitRef = useRef(onQuit)
  onQuitRef.current = onQuit

  useEffect(() => {
    // exit() after the commit, so the final frame contains every state update before it.
    if (done) exit()
  }, [done, exit])

  useEffect(() => {
    const stop = () => setDone(true)
    if (signal.aborted) stop()
    signal.addEventListener('abort', stop, {once: true})
    return () => signal.removeEventListener('abort', stop)
  }, [signal])

  useInput(
    (input, key) => {
      if (input !== 'q' && !(key.ctrl && input === 'c')) return
      setQuitting(true)
      onQuitRef.current?.()
      if (!keepOpenOnQuit) setDone(true)
    },
    {isActive: isRawModeSupported},
  )

  return <>{children({keysEnabled: isRawModeSupported, quitting})}</>
}

/** Re-runs `callback` every `ms` while mounted. */
export function useInterval(callback: () => void, ms: number): void {
  const saved = useRef(callback)
  saved.current = callback
  useEffect(() => {
    const timer = setInterval(() => saved.current(), Math.max(10, ms))
    return () => clearInterval(timer)
  }, [ms])
}

/** Mounts `node` at ~10 frames a second and resolves once it has unmounted. */
export async function mountView(node: ReactNode, streams: TerminalStreams): Promise<void> {
  const instance = render(node, {
    stdout: streams.stdout ?? process.stdout,
    stdin: streams.stdin ?? process.stdin,
    stderr: streams.stderr ?? process.stderr,
    maxFps: 10,
    interactive: streams.interactive,
    // Ctrl-C goes through ViewRoot so the command hears about it (onQuit).
    exitOnCtrlC: false,
    // Replacing the global console is a surprise for the command (and breaks under test
    // runners that install their own); loggers write to their own streams anyway.
    patchConsole: false,
  })
  await instance.waitUntilExit()
}
