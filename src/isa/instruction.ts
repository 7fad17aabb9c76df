/**
 * Decoded instructions and their 8-byte wire form. spec §8.1
 *
 * A program is a list of instructions; `ld_imm64` is one Instruction that occupies two 8-byte
 * slots (`width` 2) and carries the second slot's imm in `imm2`. Jump and call offsets count
 * slots, as the kernel does, and every error names the slot index ("instruction N"), which is
 * also what `llvm-objdump` prints.
 */
import { DecodeError, InvalidInstructionError } from '../errors.js';
import { hexBytes } from '../text.js';
import { OP_LDDW } from './opcodes.js';

export interface Instruction {
  /** Opcode byte. */
  readonly opcode: number;
  /** Destination register field, 0–15 as encoded (validation rejects > 10). */
  readonly dst: number;
  /** Source register field, 0–15 as encoded. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** `ld_imm64` only: the imm of the second slot (upper 32 bits); 0 otherwise. */
  readonly imm2: number;
}

export const INSN_SIZE = 8;

export function insn(opcode: number, dst = 0, src = 0, off = 0, imm = 0, imm2 = 0): Instruction {
  return { opcode, dst, src, off: (off << 16) >> 16, imm: imm | 0, imm2: imm2 | 0 };
}

/** Number of 8-byte slots an instruction takes. */
export function width(i: Instruction): 1 | 2 {
  return i.opcode === OP_LDDW ? 2 : 1;
}

/** The 64-bit constant of an `ld_imm64` (src 0), as a BigInt (not for hot paths). */
export function imm64(i: Instruction): bigint {
  return (BigInt(i.imm2 >>> 0) << 32n) | BigInt(i.imm >>> 0);
}

/**
 * Splits bytecode into instructions. Only structure is checked here (whole slots, a second
 * half for every `ld_imm64`, with its reserved fields zero); field rules are `validate`'s job.
 */
export function decode(bytes: Uint8Array): Instruction[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new DecodeError(bytes.length - (bytes.length % INSN_SIZE),
      `length ${bytes.length} is not a multiple of ${INSN_SIZE}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = [];
  for (let pos = 0; pos < bytes.length; pos += INSN_SIZE) {
    const opcode = view.getUint8(pos);
    const regs = view.getUint8(pos + 1);
    const off = view.getInt16(pos + 2, true);
    const imm = view.getInt32(pos + 4, true);
    let imm2 = 0;
    if (opcode === OP_LDDW) {
      const slot = pos / INSN_SIZE;
      if (pos + INSN_SIZE >= bytes.length) {
        throw new InvalidInstructionError(slot, 'ld_imm64 is missing its second half');
      }
      const next = pos + INSN_SIZE;
      if (view.getUint8(next) !== 0 || view.getUint8(next + 1) !== 0 || view.getInt16(next + 2, true) !== 0) {
        throw new InvalidInstructionError(slot,
          'second half of ld_imm64 must have zero opcode, registers and offset');
      }
      imm2 = view.getInt32(next + 4, true);
      pos = next;
    }
    out.push({ opcode, dst: regs & 0x0f, src: regs >>> 4, off, imm, imm2 });
  }
  return out;
}

/** The wire form of a program: 8 bytes per slot, little-endian fields. */
export function encode(insns: readonly Instruction[]): Uint8Array {
  const slots = insns.reduce((n, i) => n + width(i), 0);
  const bytes = new Uint8Array(slots * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  let pos = 0;
  for (const i of insns) {
    view.setUint8(pos, i.opcode);
    view.setUint8(pos + 1, ((i.src & 0x0f) << 4) | (i.dst & 0x0f));
    view.setInt16(pos + 2, i.off, true);
    view.setInt32(pos + 4, i.imm, true);
    pos += INSN_SIZE;
    if (width(i) === 2) {
      view.setInt32(pos + 4, i.imm2, true);
      pos += INSN_SIZE;
    }
  }
  return bytes;
}

/** Slot index of every instruction, plus the total slot count at the end. */
export function slotIndices(insns: readonly Instruction[]): number[] {
  const slots: number[] = [];
  let s = 0;
  for (const i of insns) {
    slots.push(s);
    s += width(i);
  }
  slots.push(s);
  return slots;
}

/**
 * Parses bytecode written as text: either hex bytes separated by spaces ("b7 00 00 00 ...")
 * or one 64-bit word per line ("0x00000001000000b7", the low byte is the opcode).
 * `#` starts a comment. Returns the raw bytes.
 */
export function parseHexBytecode(text: string): Uint8Array {
  const bytes: number[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, n) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (/^0x[0-9a-f]{1,16}$/i.test(line)) {
      let word = BigInt(line);
      for (let b = 0; b < 8; b++, word >>= 8n) bytes.push(Number(word & 0xffn));
      return;
    }
    for (const tok of line.split(/[\s,]+/)) {
      if (!/^(0x)?[0-9a-f]{1,2}$/i.test(tok)) {
        throw new DecodeError(bytes.length, `line ${n + 1}: '${tok}' is not a hex byte`);
      }
      bytes.push(parseInt(tok.replace(/^0x/i, ''), 16));
    }
  });
  return Uint8Array.from(bytes);
}

/** Hex bytes of one instruction's slots, one slot per line: "b7 00 00 00 01 00 00 00". */
export function toHexLines(insns: readonly Instruction[]): string[] {
  const bytes = encode(insns);
  const lines: string[] = [];
  for (let pos = 0; pos < bytes.length; pos += INSN_SIZE) {
    lines.push(hexBytes(bytes.subarray(pos, pos + INSN_SIZE), ' '));
  }
  return lines;
}
