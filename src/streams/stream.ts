/**
 * BPF streams: the per-program stdout/stderr of kernel/bpf/stream.c (spec §4). A stream is a
 * FIFO of byte elements with a charged capacity; programs write with the stream kfuncs
 * (./kfuncs.ts), the kernel stages multi-element reports and commits them at once (§4.4), and
 * user space reads bytes across element boundaries (§4.5).
 */
import { latin1Bytes, latin1Text } from '../text.js';
import { ENOENT, ENOMEM, ENOSPC } from '../uapi.js';

/** enum bpf_stream_id (§4.1): `prog->aux->stream[id - 1]`. */
export const BPF_STDOUT = 1;
export const BPF_STDERR = 2;

/** Bytes a stream may hold, counting what is written but not yet read (§4.1). */
export const BPF_STREAM_MAX_CAPACITY = 100_000;

/**
 * Largest element: the 1024-byte per-CPU printf buffer (`bpf_bprintf_buffers.buf`,
 * MAX_BPRINTF_BUF). Longer pushes fail to allocate (-ENOMEM) (§4.1, §4.2).
 */
export const BPF_STREAM_ELEM_MAX = 1024;

/** One pushed message and how much of it readers have taken (`bpf_stream_elem`). */
interface StreamElem {
  readonly bytes: Uint8Array;
  consumed: number;
}

/**
 * What a `vsnprintf`/`bstr_printf` into the 1024-byte buffer followed by a push of its return
 * value stores: the return value is the untruncated length, so a 1024-char text yields 1023
 * chars plus the terminating NUL, and a longer one an allocation failure (§4.2, mainline).
 */
export function printfElement(text: string): { len: number; bytes: Uint8Array | undefined } {
  const len = text.length;
  if (len > BPF_STREAM_ELEM_MAX) return { len, bytes: undefined };
  const bytes = latin1Bytes(len === BPF_STREAM_ELEM_MAX ? text.slice(0, len - 1) + '\0' : text);
  return { len, bytes };
}

/** Who wrote a stream message: the program (bpf_stream_vprintk) or the kernel (a report). */
export type StreamOrigin = 'program' | 'kernel';

/** Told of every message a stream accepts, with its elements (the message's boundaries). */
export type StreamObserver = (elements: readonly Uint8Array[], origin: StreamOrigin) => void;

export class BpfStream {
  constructor(private readonly observer?: StreamObserver) {}

  /** Bytes charged against the capacity (`stream->capacity`). */
  private charged = 0;
  /** Unread elements in FIFO order; `elems[head]` is the oldest. */
  private elems: StreamElem[] = [];
  private head = 0;

  /** Bytes charged against BPF_STREAM_MAX_CAPACITY (can exceed `pending`, see push()). */
  get capacityUsed(): number {
    return this.charged;
  }

  /** Bytes a reader would still get. */
  get pending(): number {
    let n = 0;
    for (let i = this.head; i < this.elems.length; i++) n += this.elems[i].bytes.length - this.elems[i].consumed;
    return n;
  }

  /** Unread text, without consuming it (for tools and tests). */
  get text(): string {
    let s = '';
    for (let i = this.head; i < this.elems.length; i++) s += latin1Text(this.elems[i].bytes.subarray(this.elems[i].consumed));
    return s;
  }

  /**
   * `bpf_stream_consume_capacity` (§4.1): refused when the stream is already full, or when
   * adding `len` reaches the cap; so at most 99 999 bytes are ever held.
   */
  consumeCapacity(len: number): number {
    if (this.charged >= BPF_STREAM_MAX_CAPACITY) return -ENOSPC;
    this.charged += len;
    if (this.charged >= BPF_STREAM_MAX_CAPACITY) {
      this.charged -= len;
      return -ENOSPC;
    }
    return 0;
  }

  /**
   * `bpf_stream_push_str`: charge, then allocate the element. As in mainline, an element over
   * 1024 bytes fails with -ENOMEM *after* the charge, and that charge is never released.
   */
  push(bytes: Uint8Array): number {
    const err = this.consumeCapacity(bytes.length);
    if (err) return err;
    if (bytes.length > BPF_STREAM_ELEM_MAX) return -ENOMEM;
    const elem = bytes.slice();
    this.append(elem);
    this.observer?.([elem], 'program');
    return 0;
  }

  /** Pushes text as one element (one byte per char). */
  pushText(text: string): number {
    return this.push(latin1Bytes(text));
  }

  /** Appends an element whose capacity is already charged (push, commit). */
  private append(bytes: Uint8Array): void {
    this.elems.push({ bytes, consumed: 0 });
  }

  /** Starts a kernel-side staged message that commit() adds all-or-nothing (§4.4). */
  stage(): StreamStage {
    return new StreamStage((len, elems) => {
      const err = this.consumeCapacity(len);
      if (err) return err;
      for (const e of elems) this.append(e);
      this.observer?.(elems, 'kernel');
      return 0;
    });
  }

  /**
   * `bpf_stream_read` (§4.5): up to `len` bytes in FIFO order across elements; a partly read
   * element keeps its rest; a fully read one is dropped and its capacity released.
   */
  read(len: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(len, this.pending)));
    let pos = 0;
    while (pos < out.length) {
      const e = this.elems[this.head];
      const used = Math.min(e.bytes.length - e.consumed, out.length - pos);
      out.set(e.bytes.subarray(e.consumed, e.consumed + used), pos);
      e.consumed += used;
      pos += used;
      if (e.consumed === e.bytes.length) this.pop();
    }
    // A read that still wants bytes also drops empty elements (the kernel loops while rem_len).
    while (pos < len && this.head < this.elems.length && this.elems[this.head].bytes.length === 0) this.pop();
    return out;
  }

  private pop(): void {
    const e = this.elems[this.head++];
    this.charged -= e.bytes.length;
    if (this.head > 1024 && this.head * 2 > this.elems.length) {
      this.elems = this.elems.slice(this.head);
      this.head = 0;
    }
  }

  /** Reads everything that is pending, as text. */
  readAll(): string {
    return latin1Text(this.read(this.pending));
  }
}

/**
 * `struct bpf_stream_stage`: elements collected by `bpf_stream_stage_printk` and their summed
 * length, charged as a whole at commit (§4.4). Lengths of pushes that failed to allocate still
 * count, as in the kernel (`ss->len += ret` precedes the allocation).
 */
export class StreamStage {
  private readonly elems: Uint8Array[] = [];
  private len = 0;
  private done = false;

  constructor(private readonly sink: (len: number, elems: readonly Uint8Array[]) => number) {}

  /** Total length the commit will charge. */
  get length(): number {
    return this.len;
  }

  /** `bpf_stream_stage_printk` with already formatted text: 0, or -ENOMEM for > 1024 bytes. */
  printk(text: string): number {
    const { len, bytes } = printfElement(text);
    this.len += len;
    if (!bytes) return -ENOMEM;
    this.elems.push(bytes);
    return 0;
  }

  /** `bpf_stream_stage_commit`: all elements in order, or none with -ENOSPC. Once only. */
  commit(): number {
    if (this.done) throw new Error('stream stage committed twice');
    this.done = true;
    return this.sink(this.len, this.elems);
  }
}

/** `prog->aux->stream[]` of one main program (§4.1, §5). */
export class ProgramStreams {
  readonly stdout: BpfStream;
  readonly stderr: BpfStream;

  /** `observer` hears every message either stream accepts (for run records). */
  constructor(observer?: (stream: 'stdout' | 'stderr', elements: readonly Uint8Array[], origin: StreamOrigin) => void) {
    this.stdout = new BpfStream(observer && ((elems, origin) => observer('stdout', elems, origin)));
    this.stderr = new BpfStream(observer && ((elems, origin) => observer('stderr', elems, origin)));
  }

  /** `bpf_stream_get`: stdout for 1, stderr for 2, undefined for any other id. */
  get(id: number): BpfStream | undefined {
    return id === BPF_STDOUT ? this.stdout : id === BPF_STDERR ? this.stderr : undefined;
  }

  /** `bpf_prog_stream_read` (BPF_PROG_STREAM_READ_BY_FD): bytes, or -ENOENT for a bad id. */
  read(id: number, len: number): Uint8Array | number {
    const stream = this.get(id);
    return stream ? stream.read(len) : -ENOENT;
  }
}
