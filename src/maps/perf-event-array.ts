/**
 * PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, the fd_array family) and the perf rings its slots
 * point to: what bpf_perf_event_output writes and what a reader (libbpf's perf_buffer) reads.
 * spec maps-and-kernel-objects §2.9, program-types §4.9.
 *
 * The simulated reader: at creation every slot 0..min(nrCpus, max_entries)-1 holds a perf event
 * bound to the CPU of the same number, as libbpf's perf_buffer__new opens them (type SOFTWARE,
 * config PERF_COUNT_SW_BPF_OUTPUT, sample_type PERF_SAMPLE_RAW, sample_period 1), each with a
 * ring of DEFAULT_PERF_PAGES data pages. The host changes slots with openEvent()/closeEvent(), or with the
 * syscall-style update()/delete(): bpfrun's update value is a u32 CPU number, standing for the
 * fd of a BPF_OUTPUT event bound to that CPU (a CPU outside 0..nrCpus-1 is the kernel's EBADF
 * for an fd that is not a perf event).
 *
 * Each event keeps its ring as the kernel lays it out (the data pages; the metadata page with
 * data_head/data_tail is not in simulated memory, programs never see it): records are written
 * at `head`, the reader consumes from `tail`, and a record may wrap around the end of the data
 * area. Padding bytes of a sample are skipped by the kernel (`__output_skip`, contents
 * unspecified); bpfrun writes zeros there so records are reproducible.
 */
import { MapError } from '../errors.js';
import type { AddressSpace } from '../memory.js';
import { BPF_ANY, E2BIG, EBADF, EINVAL, ENOENT, ENOSPC, ENOTSUPP, EOPNOTSUPP, PAGE_SIZE } from '../uapi.js';
import { arrayNextIndex } from './array.js';
import { BpfMap, indexKey, keyIndex } from './base.js';
import type { MapSpec } from './types.js';

/** PERF_RECORD_LOST, PERF_RECORD_SAMPLE (include/uapi/linux/perf_event.h). */
export const PERF_RECORD_LOST = 2;
export const PERF_RECORD_SAMPLE = 9;
/** PERF_RECORD_MISC_KERNEL: the sample was taken on kernel registers (every bpfrun program type). */
export const PERF_RECORD_MISC_KERNEL = 1;
/** BPF_F_INDEX_MASK / BPF_F_CURRENT_CPU / BPF_F_CTXLEN_MASK (include/uapi/linux/bpf.h). */
export const BPF_F_INDEX_MASK = 0xffffffffn;
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
export const BPF_F_CTXLEN_MASK = 0xfffffn << 32n;
/** Data pages per CPU ring of the simulated reader (libbpf tools commonly pass 8 to perf_buffer__new). */
export const DEFAULT_PERF_PAGES = 8;
/** struct perf_event_header: u32 type, u16 misc, u16 size. */
const HEADER_SIZE = 8;
/** PERF_RECORD_LOST: header, u64 id, u64 lost. */
const LOST_RECORD_SIZE = 24;
/** header.size is a u16. */
const MAX_RECORD_SIZE = 0xffff;

/** One record as the reader sees it (libbpf's perf_buffer__process_record). */
export interface PerfRecord {
  /** The CPU of the event whose ring held the record (libbpf's `cpu` callback argument). */
  readonly cpu: number;
  /** The map slot of that event. */
  readonly slot: number;
  readonly type: 'sample' | 'lost';
  /** header.misc: PERF_RECORD_MISC_KERNEL for samples, 0 for LOST records. */
  readonly misc: number;
  /** header.size: the whole record, a multiple of 8. */
  readonly size: number;
  /**
   * A sample's raw bytes, raw_size = round_up(n + 4, 8) - 4 of them (what libbpf hands the
   * sample callback): the data, the appended packet bytes, then zero padding. Empty for LOST.
   */
  readonly data: Uint8Array;
  /** LOST records: the samples lost since the previous record (u64 lost). */
  readonly lost?: number;
  /** LOST records: the event's id (u64 id). */
  readonly id?: number;
}

/** How the host opens a simulated perf event for a slot. */
export interface PerfEventOptions {
  /** The CPU the event is bound to (default: the slot's index). */
  readonly cpu?: number;
  /** Data pages of its ring, a power of 2 (default DEFAULT_PERF_PAGES). */
  readonly pages?: number;
  /**
   * Whether it is a PERF_COUNT_SW_BPF_OUTPUT software event (default true); any other event
   * makes bpf_perf_event_output fail with EINVAL.
   */
  readonly bpfOutput?: boolean;
}

/** A simulated perf event and its mmap'ed ring. */
class PerfEvent {
  readonly ring: Uint8Array;
  /** data_head / data_tail: positions that only grow; the offset is `pos % ring.length`. */
  head = 0;
  tail = 0;
  /** rb->lost: samples lost since the last LOST record. */
  pendingLost = 0;
  /** event->lost_samples: every sample ever lost. */
  lostSamples = 0;

  constructor(readonly id: number, readonly cpu: number, pages: number, readonly bpfOutput: boolean) {
    this.ring = new Uint8Array(pages * PAGE_SIZE);
  }

  /**
   * perf_output_begin + perf_output_sample + perf_output_end for a PERF_SAMPLE_RAW sample of
   * `parts` (spec §4.9): 0, or -ENOSPC with the loss counted. A pending loss is reported first
   * by a LOST record, which must fit together with the sample (__perf_output_begin).
   */
  outputSample(parts: readonly Uint8Array[]): number {
    const n = parts.reduce((s, p) => s + p.length, 0);
    const rawSize = Math.ceil((n + 4) / 8) * 8 - 4;
    const size = HEADER_SIZE + 4 + rawSize;
    const total = size + (this.pendingLost > 0 ? LOST_RECORD_SIZE : 0);
    // ring_buffer_has_space: CIRC_SPACE(head, tail, data_size) >= size. A record whose u16
    // header.size would overflow is refused as one that does not fit (the kernel would corrupt
    // its ring; no ring of up to 8 pages can hold one).
    const space = this.ring.length - 1 - (this.head - this.tail);
    if (size > MAX_RECORD_SIZE || space < total) {
      this.pendingLost++;
      this.lostSamples++;
      return -ENOSPC;
    }
    if (this.pendingLost > 0) {
      const lost = new Uint8Array(LOST_RECORD_SIZE);
      const v = new DataView(lost.buffer);
      v.setUint32(0, PERF_RECORD_LOST, true);
      v.setUint16(4, 0, true);
      v.setUint16(6, LOST_RECORD_SIZE, true);
      v.setBigUint64(8, BigInt(this.id), true);
      v.setBigUint64(16, BigInt(this.pendingLost), true);
      this.write(lost);
      this.pendingLost = 0;
    }
    const record = new Uint8Array(size);
    const v = new DataView(record.buffer);
    v.setUint32(0, PERF_RECORD_SAMPLE, true);
    v.setUint16(4, PERF_RECORD_MISC_KERNEL, true);
    v.setUint16(6, size, true);
    v.setUint32(8, rawSize, true);
    let at = 12;
    for (const p of parts) { record.set(p, at); at += p.length; }
    this.write(record);
    return 0;
  }

  private write(bytes: Uint8Array): void {
    const len = this.ring.length;
    for (let k = 0; k < bytes.length; k++) this.ring[(this.head + k) % len] = bytes[k];
    this.head += bytes.length;
  }

  private read(pos: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const len = this.ring.length;
    for (let k = 0; k < n; k++) out[k] = this.ring[(pos + k) % len];
    return out;
  }

  /** The reader's poll (perf_event_read_simple): every record from tail to head; frees the space. */
  consume(slot: number): PerfRecord[] {
    const records: PerfRecord[] = [];
    while (this.tail < this.head) {
      const h = new DataView(this.read(this.tail, HEADER_SIZE).buffer);
      const type = h.getUint32(0, true), misc = h.getUint16(4, true), size = h.getUint16(6, true);
      const body = this.read(this.tail + HEADER_SIZE, size - HEADER_SIZE);
      const b = new DataView(body.buffer);
      if (type === PERF_RECORD_SAMPLE) {
        const rawSize = b.getUint32(0, true);
        records.push({ cpu: this.cpu, slot, type: 'sample', misc, size, data: body.slice(4, 4 + rawSize) });
      } else {
        records.push({ cpu: this.cpu, slot, type: 'lost', misc, size, data: new Uint8Array(0), id: Number(b.getBigUint64(0, true)), lost: Number(b.getBigUint64(8, true)) });
      }
      this.tail += size;
    }
    return records;
  }
}

export class PerfEventArrayMap extends BpfMap {
  /** The filled slots only, by index. */
  private readonly slots = new Map<number, PerfEvent>();
  private nextEventId = 1;

  constructor(spec: MapSpec, memory: AddressSpace, nrCpus: number) {
    super(spec, memory, nrCpus);
    for (let cpu = 0; cpu < Math.min(nrCpus, spec.maxEntries); cpu++) this.openEvent(cpu);
  }

  /** Opens a simulated perf event (and its ring) in `slot`, replacing what was there. */
  openEvent(slot: number, options: PerfEventOptions = {}): void {
    this.checkSlot(slot);
    const cpu = options.cpu ?? slot;
    const pages = options.pages ?? DEFAULT_PERF_PAGES;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new MapError(this.spec.name, 'EINVAL', `perf event CPU ${cpu} does not exist (CPUs 0..${this.nrCpus - 1})`);
    }
    // perf_mmap: the data area is a power of 2 of pages.
    if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 1 << 16) {
      throw new MapError(this.spec.name, 'EINVAL', `a perf ring has a power of 2 of data pages (1..65536), got ${pages}`);
    }
    this.slots.set(slot, new PerfEvent(this.nextEventId++, cpu, pages, options.bpfOutput ?? true));
  }

  /** Empties a slot (records still in its ring are dropped); returns whether it held an event. */
  closeEvent(slot: number): boolean {
    this.checkSlot(slot);
    return this.slots.delete(slot);
  }

  /** The event in a slot: its CPU, ring size in bytes, unread bytes, samples lost in all. */
  event(slot: number): { cpu: number; id: number; ringSize: number; unread: number; lostSamples: number; bpfOutput: boolean } | undefined {
    const e = this.slots.get(slot);
    return e && { cpu: e.cpu, id: e.id, ringSize: e.ring.length, unread: e.head - e.tail, lostSamples: e.lostSamples, bpfOutput: e.bpfOutput };
  }

  /** A copy of a slot's ring (data pages) with data_head and data_tail, as a reader's mmap shows it. */
  ring(slot: number): { data: Uint8Array; head: number; tail: number } | undefined {
    const e = this.slots.get(slot);
    return e && { data: e.ring.slice(), head: e.head, tail: e.tail };
  }

  /**
   * The reader's poll (libbpf perf_buffer__poll / perf_buffer__consume): the records of every
   * slot (or only of events bound to `cpu`), slot by slot, each ring in order; consumed records
   * free their space in the ring.
   */
  drain(cpu?: number): PerfRecord[] {
    const out: PerfRecord[] = [];
    for (const slot of [...this.slots.keys()].sort((a, b) => a - b)) {
      const e = this.slots.get(slot)!;
      if (cpu === undefined || e.cpu === cpu) out.push(...e.consume(slot));
    }
    return out;
  }

  /**
   * __bpf_perf_event_output after the helper's own flag checks (spec §4.9): the slot from the
   * index bits (BPF_F_CURRENT_CPU = the running CPU), then E2BIG, ENOENT, EINVAL (not a
   * BPF_OUTPUT event), EOPNOTSUPP (another CPU's event), ENOSPC (ring full); 0 on success.
   */
  output(flags: bigint, cpu: number, parts: readonly Uint8Array[]): number {
    let index = flags & BPF_F_INDEX_MASK;
    if (index === BPF_F_CURRENT_CPU) index = BigInt(cpu);
    if (index >= BigInt(this.spec.maxEntries)) return -E2BIG;
    const e = this.slots.get(Number(index));
    if (e === undefined) return -ENOENT;
    if (!e.bpfOutput) return -EINVAL;
    if (e.cpu !== cpu) return -EOPNOTSUPP;
    return e.outputSample(parts);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.spec.maxEntries) {
      throw new MapError(this.spec.name, 'E2BIG', `slot ${slot} is out of range (max_entries ${this.spec.maxEntries})`);
    }
  }

  // ---- Program side: the verifier allows only the perf helpers on this map; lookups from a
  // program are refused at load (spec §2.9). Should an unverified program try: NULL / -EOPNOTSUPP.
  lookupElem(_key: Uint8Array, _cpu: number): bigint { return 0n; }
  updateElem(_key: Uint8Array, _value: Uint8Array, _flags: number, _cpu: number): number { return -EOPNOTSUPP; }
  deleteElem(_key: Uint8Array): number { return -EOPNOTSUPP; }

  // ---- Host side (spec §2.9) ----

  // perf_event_array's map_lookup_elem is ERR_PTR(-ENOTSUPP) for the syscall.
  protected hostLookup(): never {
    return this.fail(ENOTSUPP, 'perf event arrays cannot be looked up (their values are perf event fds)');
  }

  // bpf_fd_array_map_update_elem: only BPF_ANY; E2BIG past the end; the value names the event.
  protected hostUpdate(key: Uint8Array, value: Uint8Array, flags: number): number {
    if (flags !== BPF_ANY) return -EINVAL;
    const index = keyIndex(key);
    if (index >= this.spec.maxEntries) return -E2BIG;
    const cpu = keyIndex(value);
    if (cpu >= this.nrCpus) return -EBADF;
    this.openEvent(index, { cpu });
    return 0;
  }

  // __fd_array_map_delete_elem: E2BIG past the end, ENOENT for an empty slot.
  protected hostDelete(key: Uint8Array): number {
    const index = keyIndex(key);
    if (index >= this.spec.maxEntries) return -E2BIG;
    return this.slots.delete(index) ? 0 : -ENOENT;
  }

  protected hostNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = arrayNextIndex(key, this.spec.maxEntries);
    if (next === undefined) return undefined;
    return indexKey(next);
  }

  protected override updateFailure(errno: number, key: Uint8Array, flags: number): string {
    if (errno === EINVAL) return `update of slot ${keyIndex(key)}: perf event arrays accept only BPF_ANY (got ${flags})`;
    if (errno === E2BIG) return `slot ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    if (errno === EBADF) return `update of slot ${keyIndex(key)}: the value must be a CPU number 0..${this.nrCpus - 1} (bpfrun's stand-in for a perf event fd)`;
    return super.updateFailure(errno, key, flags);
  }

  protected override deleteFailure(errno: number, key: Uint8Array): string {
    if (errno === E2BIG) return `slot ${keyIndex(key)} is out of range (max_entries ${this.maxEntries})`;
    if (errno === ENOENT) return `delete of slot ${keyIndex(key)}: the slot is empty`;
    return super.deleteFailure(errno, key);
  }
}
