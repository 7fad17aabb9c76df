/**
 * Bounds-checked little-endian reads over a byte buffer, shared by the ELF, BTF and BTF.ext
 * parsers. Every read checks its range first and reports a LoadError naming `where`, so no
 * RangeError from DataView can escape for hostile input (style-anchors.md §4.7, wasmparser's
 * cursor with checked primitives). This module knows nothing about any file format.
 */
import { LoadError } from '../errors.js';
import { hex } from '../text.js';

const utf8 = new TextDecoder('utf-8');

export class ByteReader {
  private readonly view: DataView;

  /**
   * @param bytes the buffer; reads are relative to its start.
   * @param where what the buffer is, for errors ("ELF header", "section 21 (.BTF)").
   */
  constructor(readonly bytes: Uint8Array, readonly where: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** The same bytes, reported under another name (a record, a field). */
  at(where: string): ByteReader {
    return new ByteReader(this.bytes, where);
  }

  /** Throws a LoadError naming this buffer; `options.cause` is the error it rewraps, if any. */
  fail(reason: string, options?: ErrorOptions): never {
    throw new LoadError(this.where, reason, options);
  }

  /** Throws unless [off, off+len) lies inside the buffer. `what` names the field read. */
  need(off: number, len: number, what: string): void {
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 ||
        off + len > this.bytes.length) {
      this.fail(`${what} at ${hex(off)} (+${len}) is past the end (${this.bytes.length} bytes)`);
    }
  }

  u8(off: number, what = 'byte'): number {
    this.need(off, 1, what);
    return this.view.getUint8(off);
  }

  u16(off: number, what = 'u16'): number {
    this.need(off, 2, what);
    return this.view.getUint16(off, true);
  }

  u32(off: number, what = 'u32'): number {
    this.need(off, 4, what);
    return this.view.getUint32(off, true);
  }

  i32(off: number, what = 'i32'): number {
    this.need(off, 4, what);
    return this.view.getInt32(off, true);
  }

  u64(off: number, what = 'u64'): bigint {
    this.need(off, 8, what);
    return this.view.getBigUint64(off, true);
  }

  /** A u64 field that must fit a JS number exactly (offsets, sizes, symbol values). */
  u64n(off: number, what = 'u64'): number {
    const v = this.u64(off, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${hex(v)} is beyond 2^53`);
    return Number(v);
  }

  /** A view (not a copy) of [off, off+len). */
  slice(off: number, len: number, what = 'range'): Uint8Array {
    this.need(off, len, what);
    return this.bytes.subarray(off, off + len);
  }

  /** The NUL-terminated string starting at `off`; the NUL must be inside the buffer. */
  cstring(off: number, what = 'string'): string {
    this.need(off, 0, what);
    if (off >= this.bytes.length) this.fail(`${what} offset ${hex(off)} is outside the string table (${this.bytes.length} bytes)`);
    const end = this.bytes.indexOf(0, off);
    if (end < 0) this.fail(`${what} at ${hex(off)} is not NUL-terminated`);
    return utf8.decode(this.bytes.subarray(off, end));
  }
}
