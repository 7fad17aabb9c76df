/**
 * Text as the simulated kernel and the messages need it, in one leaf module: kernel strings are
 * bytes, and our text holds one char per byte (Latin-1), as printf.ts produces it; numbers and
 * byte runs are printed in hex. Nothing here knows what the text is for.
 */

/** The bytes of a one-char-per-byte string (chars above 0xff keep their low byte). */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Bytes as a one-char-per-byte string. Deliberately not TextDecoder('latin1'): the WHATWG
 * Encoding standard maps that label to windows-1252, which turns 0x80–0x9f into other chars.
 */
export function latin1Text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return s;
}

/** A number, offset or address as messages print it: "0x1f"; `digits` pads with zeros ("0x05"). */
export function hex(n: number | bigint, digits = 0): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

/** Bytes as hex digits, two a byte: "1f2a" (map keys in messages), or "1f 2a" with a separator. */
export function hexBytes(bytes: Uint8Array, separator = ''): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(separator);
}
