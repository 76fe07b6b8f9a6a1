import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { forwardLines } from './output-lines.js';
import { isRelayMessage, type ListenerName, type RelayMessage, type SupervisorMessage } from './protocol.js';

type Configured = Extract<RelayMessage, { type: 'configured' }>;
type Ready = Extract<RelayMessage, { type: 'ready' }>;

const RELAY_MAIN = fileURLToPath(new URL('./relay-main.js', import.meta.url));

/** A relay process failed to start: its config is invalid, storage would not open, or it exited. */
export class RelayStartFailure extends Error {
  override readonly name = 'RelayStartFailure';
  constructor(
    message: string,
    /** The relay's error code (e.g. HOOKRELAY_CONFIG_INVALID), or null when it just exited. */
    readonly code: string | null,
  ) {
    super(message);
  }
}

/** The supervisor's side of one relay process. */
export interface RelayProcess {
  readonly pid: number;
  /** Its config was read and is valid (rejects with RelayStartFailure). */
  readonly configured: Promise<Configured>;
  /** It serves (rejects with RelayStartFailure). */
  readonly ready: Promise<Ready>;
  /** It has exited and its output is all passed on. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once stop() or kill() was called: its exit is expected. */
  readonly stopRequested: boolean;
  /** Hands over the listening sockets, then lets it open storage and serve. */
  start(listeners: Partial<Record<ListenerName, object>>): void;
  /** Asks it to drain (finish requests and in-flight attempts, close storage) and exit. */
  stop(): void;
  kill(): void;
}

const STDIO = ['ignore', 'pipe', 'pipe', 'ipc'] as const;
let prestarted: ChildProcess | null = null;

/**
 * Forks a relay process before the CLI has even parsed its options (see cli/main.ts), so it
 * loads its modules — most of a start-up — while the supervisor loads its own: the first
 * forkRelay() takes it over. Unreferenced until then, so a `serve` that ends at a usage error
 * exits as before; the relay process ends when its supervisor does.
 */
export function prestartRelay(): void {
  prestarted = fork(RELAY_MAIN, [], { stdio: [...STDIO] });
  setReferenced(prestarted, false);
}

function setReferenced(child: ChildProcess, referenced: boolean): void {
  for (const handle of [child, child.channel, child.stdout as Socket | null, child.stderr as Socket | null]) {
    if (referenced) handle?.ref();
    else handle?.unref();
  }
}

export function forkRelay(configPath: string, output: { stdout: (text: string) => void; stderr: (text: string) => void }): RelayProcess {
  let child: ChildProcess;
  if (prestarted) {
    child = prestarted;
    prestarted = null;
    setReferenced(child, true);
    child.send({ type: 'configure', configPath } satisfies SupervisorMessage);
  } else {
    child = fork(RELAY_MAIN, [configPath], { stdio: [...STDIO] });
  }
  const flushStdout = forwardLines(child.stdout!, output.stdout);
  const flushStderr = forwardLines(child.stderr!, output.stderr);
  let stopRequested = false;

  let configure!: (message: Configured) => void;
  let becomeReady!: (message: Ready) => void;
  let failStart!: (error: RelayStartFailure) => void;
  const configured = new Promise<Configured>((resolve) => (configure = resolve));
  const ready = new Promise<Ready>((resolve, reject) => {
    becomeReady = resolve;
    failStart = reject;
  });
  const configuredOrFailed = Promise.race([configured, ready.then(() => never<Configured>())]);
  // The caller may await only one of them; the other's rejection is not unhandled.
  configuredOrFailed.catch(() => undefined);
  ready.catch(() => undefined);

  child.on('message', (message: unknown) => {
    if (!isRelayMessage(message)) return;
    if (message.type === 'configured') configure(message);
    else if (message.type === 'ready') becomeReady(message);
    else if (message.type === 'failed') failStart(new RelayStartFailure(message.message, message.code));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      flushStdout();
      flushStderr();
      failStart(new RelayStartFailure(`the relay process exited (${signal ?? code}) before serving`, null));
      resolve({ code, signal });
    }),
  );
  const send = (message: SupervisorMessage, handle?: object) => {
    if (child.connected) child.send(message, handle as never);
  };

  return {
    pid: child.pid ?? -1,
    configured: configuredOrFailed,
    ready,
    exited,
    get stopRequested() {
      return stopRequested;
    },
    start(listeners) {
      for (const name of ['public', 'admin'] as const) {
        const handle = listeners[name];
        if (handle) send({ type: 'listener', name }, handle);
      }
      send({ type: 'start' });
    },
    stop() {
      stopRequested = true;
      send({ type: 'stop' });
    },
    kill() {
      stopRequested = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
