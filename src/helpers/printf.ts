/**
 * The kernel's BPF printf: the format rules of `bpf_bprintf_prepare` (kernel/bpf/helpers.c)
 * and the output of the kernel's vsnprintf for the conversions it allows. Shared by
 * bpf_trace_printk, bpf_trace_vprintk, bpf_snprintf and the stream printk kfunc.
 *
 * Allowed: `%%`; `%[flags][width]` then `d i u x X` with `l`/`ll`, `c`, `s`, `p`, `pK px ps pS pB`,
 * `pks pus`, `pi4 pI4 pi6 pI6`. Flags are `0 + - space`; no precision. Anything else, a
 * non-printable byte, or more conversions than arguments is -EINVAL, as in the kernel.
 *
 * Arguments are packed as bpf_bprintf_prepare packs them into its 512-byte `bin_args` buffer
 * (MAX_BPRINTF_BIN_ARGS): integers and pointers 4-byte aligned (4 or 8 bytes), `%c` one byte,
 * strings with their NUL, IP addresses pre-formatted with their NUL. Strings are cut to the room
 * left, and a conversion that finds no room is -ENOSPC.
 *
 * Where we differ (documented): the kernel hashes plain `%p` and prints symbols for `%pS/%pB`;
 * we print the raw address in hex for all pointer forms except the IP and string ones. A
 * pre-formatted IP or `%pB` longer than the room left is cut; later conversions then get
 * -ENOSPC (the kernel's pointer would run past the buffer).
 */
import type { AddressSpace } from '../memory.js';
import { latin1Text } from '../text.js';
import { EINVAL, ENOSPC } from '../uapi.js';

/** What the formatter needs from memory: a NUL-terminated string, and raw bytes. */
export interface FormatMemory {
  /** The string at an address (at most `max` bytes), or undefined if unreadable. */
  string(address: bigint, max: number): string | undefined;
  /** `len` bytes at an address, or undefined if unreadable. */
  bytes(address: bigint, len: number): Uint8Array | undefined;
}

/** The formatter's view of an address space: strings and bytes read as the kernel reads them. */
export function memoryFormat(mem: AddressSpace): FormatMemory {
  return {
    string: (address, max) => {
      const s = mem.readString(address, max);
      return s && latin1Text(s.bytes);
    },
    bytes: (address, len) => mem.read(address, len),
  };
}

/** Size of bpf_bprintf_prepare's packed-argument buffer (MAX_BPRINTF_BIN_ARGS). */
export const MAX_BPRINTF_BIN_ARGS = 512;

/** Formats `fmt` with 64-bit `args`; returns the text, or a negative errno for a bad format. */
export function bpfFormat(fmt: string, args: readonly bigint[], mem: FormatMemory): string | number {
  let out = '';
  let argIndex = 0;
  /** Bytes of bin_args used so far. */
  let used = 0;
  /** Room for a fixed-size value, 4-byte aligned as the kernel's PTR_ALIGN. */
  const take = (size: number): boolean => {
    used = (used + 3) & ~3;
    if (MAX_BPRINTF_BIN_ARGS - used < size) return false;
    used += size;
    return true;
  };
  /** A string copied with its NUL into the room left (strncpy_from_kernel_nofault); '' if unreadable. */
  const copyString = (address: bigint): string | undefined => {
    const room = MAX_BPRINTF_BIN_ARGS - used;
    if (room <= 0) return undefined;
    const text = mem.string(address, room - 1) ?? '';
    used += text.length + 1;
    return text;
  };
  /** A pre-formatted value (snprintf into the room left): the pointer moves by its full length. */
  const preformatted = (text: string): string => {
    const room = Math.max(MAX_BPRINTF_BIN_ARGS - used, 0);
    used += text.length + 1;
    return room === 0 ? '' : text.slice(0, room - 1);
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt.charCodeAt(i);
    if (c > 0x7e || (c < 0x20 && !isSpace(fmt[i]))) return -EINVAL;
    if (fmt[i] !== '%') { out += fmt[i]; continue; }
    if (fmt[i + 1] === '%') { out += '%'; i++; continue; }
    if (argIndex >= args.length) return -EINVAL;
    const arg = args[argIndex++];
    i++;
    let flags = '';
    while (i < fmt.length && '0+- '.includes(fmt[i])) flags += fmt[i++];
    let width = 0;
    if (fmt[i] >= '1' && fmt[i] <= '9') {
      while (fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + Number(fmt[i++]);
    }
    const next = fmt[i + 1];
    const endsWord = (ch: string | undefined) => ch === undefined || isSpace(ch) || isPunct(ch);
    let text: string;
    if (fmt[i] === 'p') {
      if (endsWord(next)) {
        if (!take(8)) return -ENOSPC;
        text = formatPointer(arg);
      } else if ((next === 'k' || next === 'u') && fmt[i + 2] === 's') {
        i += 2;
        if (!endsWord(fmt[i + 1])) return -EINVAL;
        const str = copyString(arg);
        if (str === undefined) return -ENOSPC;
        text = str;
      } else if ('KxsS'.includes(next)) {
        i++;
        if (!take(8)) return -ENOSPC;
        text = formatPointer(arg);
      } else if (next === 'B') {
        i++;
        text = preformatted(formatPointer(arg));
      } else if ((next === 'i' || next === 'I') && (fmt[i + 2] === '4' || fmt[i + 2] === '6')) {
        const size = fmt[i + 2] === '4' ? 4 : 16;
        if (MAX_BPRINTF_BIN_ARGS - used < size) return -ENOSPC;
        text = preformatted(formatIp(mem.bytes(arg, size), next === 'I', size === 4));
        i += 2;
      } else {
        return -EINVAL;
      }
    } else if (fmt[i] === 's') {
      if (!endsWord(next)) return -EINVAL;
      const str = copyString(arg);
      if (str === undefined) return -ENOSPC;
      text = str;
    } else if (fmt[i] === 'c') {
      if (MAX_BPRINTF_BIN_ARGS - used <= 0) return -ENOSPC;
      used += 1;
      text = String.fromCharCode(Number(arg & 0xffn));
    } else {
      let bits = 32;
      if (fmt[i] === 'l') { bits = 64; i++; }
      if (fmt[i] === 'l') { bits = 64; i++; }
      const conv = fmt[i];
      if (conv === undefined || !'iduxX'.includes(conv)) return -EINVAL;
      if (!take(bits / 8)) return -ENOSPC;
      text = formatInteger(arg, bits, conv, flags);
    }
    out += pad(text, width, flags);
  }
  return out;
}

function isSpace(ch: string): boolean {
  return ch === ' ' || (ch >= '\t' && ch <= '\r');
}

function isPunct(ch: string): boolean {
  return /^[!-/:-@[-`{-~]$/.test(ch);
}

/** The raw address every pointer form but the IP and string ones prints here: 16 hex digits, no prefix. */
function formatPointer(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16).padStart(16, '0');
}

function formatInteger(arg: bigint, bits: number, conv: string, flags: string): string {
  const unsigned = BigInt.asUintN(bits, arg);
  if (conv === 'x') return unsigned.toString(16);
  if (conv === 'X') return unsigned.toString(16).toUpperCase();
  if (conv === 'u') return unsigned.toString();
  const signed = BigInt.asIntN(bits, arg);
  const sign = signed < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
  return sign + (signed < 0n ? -signed : signed).toString();
}

/** Width padding: '-' pads right, '0' pads with zeros after the sign, else spaces on the left. */
function pad(text: string, width: number, flags: string): string {
  if (text.length >= width) return text;
  if (flags.includes('-')) return text.padEnd(width);
  if (flags.includes('0') && /^[-+ ]?[0-9a-fA-F]+$/.test(text)) {
    const sign = /^[-+ ]/.test(text) ? text[0] : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width);
}

/** The kernel's %pI4 (1.2.3.4), %pi4 (001.002.003.004), %pI6 (colons), %pi6 (no colons). */
function formatIp(bytes: Uint8Array | undefined, dotted: boolean, v4: boolean): string {
  const b = bytes ?? new Uint8Array(v4 ? 4 : 16); // unreadable: zeros, as the kernel does
  if (v4) return Array.from(b, (x) => (dotted ? String(x) : String(x).padStart(3, '0'))).join('.');
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((b[k] << 8) | b[k + 1]).toString(16).padStart(4, '0'));
  return dotted ? groups.join(':') : groups.join('');
}
