/**
 * The messages between the `serve` supervisor and the relay process it runs.
 *
 * Words: the *supervisor* is the `serve` process (the pid in the `listening` line): it owns the
 * listening sockets and never handles a request. The *relay process* is a child running the
 * relay (config, storage, delivery, ingress, admin), started from the code on disk. A *reload*
 * starts a new relay process and hands it the same sockets once the old one has let go of
 * storage; connections arriving meanwhile wait in the kernel's accept queue.
 *
 * Start-up of a relay process (the config path is its argument, or — when it was forked before
 * the CLI had parsed its options — the `configure` message):
 *   relay -> `configured` (config read and valid) | `failed` (then it exits)
 *   supervisor -> `listener` (one per socket, the socket handle attached) ... `start`
 *   relay -> `ready` (serving) | `failed`
 * Then `stop` asks it to drain and exit 0. A relay process whose IPC channel closes (the
 * supervisor died) exits at once.
 */

export interface ListenerAddress {
  host: string;
  port: number;
}

export type ListenerName = 'public' | 'admin';

export type RelayMessage =
  | {
      type: 'configured';
      listeners: { public: ListenerAddress; admin: ListenerAddress | null };
      storage: 'sqlite' | 'postgres';
      logLevel: string;
    }
  | { type: 'ready'; port: number; adminPort: number | null }
  | { type: 'failed'; code: string | null; message: string };

export type SupervisorMessage =
  | { type: 'configure'; configPath: string }
  | { type: 'listener'; name: ListenerName }
  | { type: 'start' }
  | { type: 'stop' };

export function isRelayMessage(value: unknown): value is RelayMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
