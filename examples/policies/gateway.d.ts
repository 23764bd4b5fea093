// Types of the ublk-gateway script API, for editors: add `/// <reference path="gateway.d.ts" />` at
// the top of a script (or list this file in a jsconfig.json / tsconfig.json) to get completion and
// checks. A script is an ES module that exports any of the hooks below; `gateway` is a global.

/** Request operations as the hook sees them. */
type BlockOp = 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes' | 'unknown';

/** Error names a hook may deny with (or any errno number 1..4095). */
type ErrnoName =
  | 'EPERM' | 'ENOENT' | 'EINTR' | 'EIO' | 'ENXIO' | 'EAGAIN' | 'ENOMEM' | 'EACCES' | 'EBUSY'
  | 'EINVAL' | 'ENOSPC' | 'EROFS' | 'ENODATA' | 'ETIME' | 'EOPNOTSUPP' | 'ETIMEDOUT' | 'ECANCELED';

/** One block request. Valid during the call only: do not keep it. */
interface BlockRequest {
  readonly op: BlockOp;
  /** Byte offset on the device. */
  readonly offset: number;
  /** Length in bytes (0 for flush). */
  readonly length: number;
  /** Raw request flags (ublk UAPI). */
  readonly flags: number;
  /** Force unit access: the write must be durable when it completes. */
  readonly fua: boolean;
  /** The queue (0-based) the request arrived on; each queue runs its own copy of the script. */
  readonly queue: number;
  /** Device name from the YAML file. */
  readonly device: string;
}

/**
 * What `onRequest`/`onFlush` return. Nothing (undefined), null or true allow the request;
 * false denies it with EPERM. Fields may be combined: a delay and a tag. Anything else (a Promise,
 * an array, an object with other fields) is a failure of the hook, never "allow".
 */
type Verdict =
  | void | undefined | null | boolean
  | { readonly deny: ErrnoName | number | true }
  | { readonly delayUs?: number; readonly tag?: string };

/** The device a script runs for. */
interface DeviceInfo {
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Number of queues (each runs its own copy of the script). */
  readonly queues: number;
}

/** What the device did since the previous tick (latencies from the hook down to the target). */
interface TickStats {
  readonly device: string;
  readonly intervalMs: number;
  readonly requests: number;
  readonly iops: number;
  readonly reads: number;
  readonly writes: number;
  readonly flushes: number;
  /** Discards and write-zeroes. */
  readonly discards: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** Bytes per second read plus written. */
  readonly bandwidth: number;
  /** Requests denied by the hook (including read-only refusals by the hook). */
  readonly denied: number;
  readonly delayed: number;
  /** Calls that threw or ran over their time budget. */
  readonly failures: number;
  /** Latency percentiles (bucket upper bounds, microseconds); measured only when onTick is exported. */
  readonly latencyUs: { readonly samples: number; readonly p50: number; readonly p99: number; readonly max: number };
  /** Requests per tag name in the interval. */
  readonly tags: { readonly [tag: string]: number };
  /** The device's rate-limit stage, or null when it has none. bandwidth in bytes/s; 0 = no limit. */
  readonly rateLimit: RateLimit | null;
  readonly readOnly: boolean;
}

interface RateLimit {
  /** Requests per second for the whole device; 0 = no limit. */
  readonly iops: number;
  /** Bytes per second for the whole device; 0 = no limit. */
  readonly bandwidth: number;
}

/** Per-device state: survives reloads of the script, shared by all queues. Values are stored as JSON. */
interface ScriptState {
  get<T = unknown>(key: string): T | undefined;
  /** Stores a JSON-serializable value (up to 64 KiB as JSON); undefined deletes the key. */
  set<T>(key: string, value: T): T;
  delete(key: string): boolean;
  keys(): string[];
}

interface Gateway {
  /** Device name. */
  readonly device: string;
  /** The queue this copy of the script serves; -1 in the context that runs onAttach/onTick/onDetach. */
  readonly queue: number;
  readonly info: DeviceInfo;
  /** Known error names and their numbers. */
  readonly errno: { readonly [name in ErrnoName]: number };

  allow(): undefined;
  /** Fail the request with this errno (default EPERM); it never reaches the other stages. */
  deny(errno?: ErrnoName | number): { readonly deny: ErrnoName | number };
  /** Hold the request this long (microseconds, at most 10 s) before passing it on. */
  delay(microseconds: number): { readonly delayUs: number };
  /** Count the request under this tag (1..64 characters) in TickStats.tags. */
  tag(name: string): { readonly tag: string };

  /** Monotonic clock in milliseconds (fractional); only differences are meaningful. */
  now(): number;

  /**
   * A line in the gateway log: control characters are escaped, the line is cut at 1024 characters,
   * and at most 100 lines per 10 s are written per device (then a count of the suppressed ones).
   */
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;

  /** Adds `by` (default 1) to a per-device counter and returns its new value. */
  count(name: string, by?: number): number;
  /** All counters of the device. */
  counters(): { readonly [name: string]: number };

  readonly state: ScriptState;

  /** Changes the limits of the device's rate-limit stage (throws when the device has none). */
  setRateLimit(limits: { iops?: number; bandwidth?: number }): void;
  rateLimit(): RateLimit | null;
  /** Makes the device refuse writes, discards and write-zeroes with EROFS (or accept them again). */
  setReadOnly(on: boolean): void;
  readOnly(): boolean;
}

declare const gateway: Gateway;

/** console.* goes to the gateway log like gateway.log/warn/error. */
declare const console: {
  log(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};

// The hooks a script may export (every one optional, at least one required):
//   export function onAttach(device: DeviceInfo): void              once when the device comes up, and after each reload
//   export function onRequest(req: BlockRequest): Verdict           every request (flushes too unless onFlush exists)
//   export function onFlush(req: BlockRequest): Verdict             flush requests
//   export function onTick(stats: TickStats): void                  every tick-ms
//   export function onDetach(device: DeviceInfo): void              once when the device goes down
