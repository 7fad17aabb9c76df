/**
 * What happened during the runs of a loaded object, in order: every stream message (with its
 * element boundaries and who wrote it) and every arena fault as a structured event, each with
 * a sequence number. Run records (src/record.ts) are written from this log.
 */
import type { SourceLocation } from './errors.js';

export interface StreamMessageEvent {
  readonly kind: 'stream';
  readonly seq: number;
  readonly program: string;
  readonly stream: 'stdout' | 'stderr';
  /** The message's elements (its boundaries), as text. */
  readonly elements: readonly string[];
  readonly origin: 'program' | 'kernel';
}

/** How a fault was handled: a BPF instruction's exception table, the kernel's scratch page, an oops. */
export type FaultPath = 'exception-table' | 'scratch-page' | 'oops';

export interface FaultEvent {
  readonly kind: 'fault';
  readonly seq: number;
  /** The program on the stack (none for an oops outside any program). */
  readonly program?: string;
  readonly access: 'read' | 'write';
  readonly path: FaultPath;
  /** The user-form address reported (exact for instructions, page-aligned for the kernel path). */
  readonly userAddress?: bigint;
  /** The kernel address accessed (kernel path and oops). */
  readonly kernelAddress?: bigint;
  /** A BPF instruction's fault: its index and source line. */
  readonly insn?: number;
  readonly source?: SourceLocation;
  /** A kernel-side fault: the kfunc, and the instruction that called it. */
  readonly kfunc?: string;
  readonly callSite?: { readonly insn: number; readonly source?: SourceLocation };
}

export type RunEvent = StreamMessageEvent | FaultEvent;

/** Distributes `Omit` over the event union, so each event kind keeps its own fields. */
type WithoutSeq<T> = T extends RunEvent ? Omit<T, 'seq'> : never;

/** The object without its undefined fields: an absent field is absent, not `undefined`. */
export const withoutUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Events kept per loaded object; later ones are counted, not kept, so a long-lived object stays bounded. */
export const EVENT_LOG_LIMIT = 1_000_000;

export class EventLog {
  private readonly list: RunEvent[] = [];
  /** Events past the limit: counted, not kept. */
  dropped = 0;

  constructor(private readonly limit = EVENT_LOG_LIMIT) {}

  get events(): readonly RunEvent[] { return this.list; }

  add(event: WithoutSeq<RunEvent>): void {
    if (this.list.length >= this.limit) { this.dropped++; return; }
    this.list.push(withoutUndefined({ ...event, seq: this.list.length + 1 }) as RunEvent);
  }
}
