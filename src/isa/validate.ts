/**
 * Structural validation of a program before it runs: every field of every instruction, jump
 * and call targets, and the shape of each subprogram. This is the part of the kernel verifier
 * that needs no type tracking (bpf_opcode_in_insntable, the reserved-field checks of
 * do_check and check_subprogs); the value tracking that proves memory safety is out of scope:
 * the engines check memory accesses at run time instead.
 *
 * Rules cite spec §8 (ISA) and §1.6 (addr_space_cast).
 */
import { InvalidInstructionError } from '../errors.js';
import { hex } from '../text.js';
import { Instruction, slotIndices } from './instruction.js';
import {
  BPF_ADD, BPF_ADDR_SPACE_CAST, BPF_ALU, BPF_ALU64, BPF_AND, BPF_ARSH, BPF_ATOMIC, BPF_CALL,
  BPF_DIV, BPF_DW, BPF_END, BPF_EXIT, BPF_FETCH, BPF_JA, BPF_JCOND, BPF_JEQ,
  BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_JSGE, BPF_JSGT,
  BPF_ABS, BPF_IND, BPF_JSLE, BPF_JSLT, BPF_LD, BPF_LDX, BPF_LOAD_ACQ, BPF_LSH, BPF_MEM, BPF_MEMSX, BPF_MOD, BPF_MOV,
  BPF_MUL, BPF_NEG, BPF_OR, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC, BPF_PSEUDO_KFUNC_CALL, BPF_RSH,
  BPF_ST, BPF_STORE_REL, BPF_STX, BPF_SUB, BPF_W, BPF_X, BPF_XOR, CLASS_MASK, CODE_MASK,
  MODE_MASK, OP_LDDW, SIZE_MASK,
} from './opcodes.js';
import { ATOMIC_RMW_OPS } from './xop.js';

/** The helper id libbpf's bpf_core_poison_insn calls: 0xbad2310, "bad relo" (src/loader/core.ts). */
export const CORE_POISON_IMM = 195896080;

const FP = 10;

/** bpf_prog_load: a privileged load of more instructions (slots) than this is E2BIG. */
export const BPF_COMPLEXITY_LIMIT_INSNS = 1_000_000;
/** add_subprog: "too many subprograms" (E2BIG) past this many, the main program included. */
export const BPF_MAX_SUBPROGS = 256;

const ALU_BINARY = new Set([BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH,
  BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH]);
const JMP_COND = new Set([BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT,
  BPF_JLE, BPF_JSLT, BPF_JSLE]);
const ATOMIC_RMW = new Set(ATOMIC_RMW_OPS.map((op) => op.imm));

/** What `validate` learns about the program's layout. */
export interface ProgramLayout {
  /** Slot index of each instruction (parallel to the instruction list). */
  readonly slots: readonly number[];
  /** Total number of slots. */
  readonly slotCount: number;
  /** Sorted slot indices where subprograms start (always includes 0). */
  readonly subprogStarts: readonly number[];
}

/**
 * Checks a decoded program; throws InvalidInstructionError naming the instruction (slot) index
 * and the reason for the first problem found. Linear in the program's size.
 *
 * Two of these rules the kernel checks in do_check, on the paths it explores only: a write to
 * r10 (check_reg_arg, DST_OP: "frame pointer is read only") and a division by the constant 0
 * (check_alu_op: "div by zero"). Code the verifier proves dead (a branch on a known constant)
 * may hold them and the program loads. With `deferred`, such an instruction is not refused:
 * its slot and reason are recorded there, for the engines to refuse when a run reaches it.
 */
export function validate(insns: readonly Instruction[], deferred?: Map<number, string>): ProgramLayout {
  if (insns.length === 0) throw new InvalidInstructionError(0, 'program has no instructions');
  const tooLarge = (count: number) => new InvalidInstructionError(BPF_COMPLEXITY_LIMIT_INSNS,
    `program has ${count} instructions, more than BPF_COMPLEXITY_LIMIT_INSNS (${BPF_COMPLEXITY_LIMIT_INSNS}): E2BIG`);
  if (insns.length > BPF_COMPLEXITY_LIMIT_INSNS) throw tooLarge(insns.length);
  const slots = slotIndices(insns);
  const slotCount = slots[insns.length];
  if (slotCount > BPF_COMPLEXITY_LIMIT_INSNS) throw tooLarge(slotCount);
  const isStart = new Uint8Array(slotCount + 1);
  for (const s of slots) isStart[s] = 1;

  const subprogStarts = new Set<number>([0]);
  const addSubprog = (to: number, at: number) => {
    subprogStarts.add(to);
    if (subprogStarts.size > BPF_MAX_SUBPROGS) {
      throw new InvalidInstructionError(at, `too many subprograms: the one at ${to} is past BPF_MAX_SUBPROGS (${BPF_MAX_SUBPROGS}): E2BIG`);
    }
  };
  const jumps: Array<{ from: number; to: number }> = [];
  let sawExit = false;

  insns.forEach((ins, n) => {
    const at = slots[n];
    const fail = (reason: string): never => { throw new InvalidInstructionError(at, reason); };
    const target = (rel: number, what: string): number => {
      const to = at + 1 + rel;
      if (to < 0 || to >= slotCount) fail(`${what} target ${to} is outside the program (0..${slotCount - 1})`);
      if (!isStart[to]) fail(`${what} target ${to} is the second half of ld_imm64`);
      return to;
    };
    const refuse = deferred ? (reason: string) => { deferred.set(at, reason); } : fail;
    checkFields(ins, fail, refuse);
    const cls = ins.opcode & CLASS_MASK;
    const code = ins.opcode & CODE_MASK;
    if (cls === BPF_JMP || cls === BPF_JMP32) {
      if (code === BPF_EXIT) sawExit = true;
      else if (code === BPF_CALL && ins.src === BPF_PSEUDO_CALL) addSubprog(target(ins.imm, 'call'), at);
      else if (code === BPF_JA) jumps.push({ from: at, to: target(cls === BPF_JMP32 ? ins.imm : ins.off, 'jump') });
      else if (code !== BPF_CALL) jumps.push({ from: at, to: target(ins.off, 'jump') });
    } else if (ins.opcode === OP_LDDW && ins.src === BPF_PSEUDO_FUNC) {
      addSubprog(target(ins.imm, 'ld_imm64 function'), at);
    }
  });
  if (!sawExit) throw new InvalidInstructionError(slotCount - 1, 'program has no exit instruction');

  // spec §8.3 / kernel check_subprogs: jumps stay inside their subprogram, and each subprogram
  // ends in exit or an unconditional jump (execution cannot fall into the next one).
  // Both tables are built in one pass each, so this is linear in the program's size.
  const starts = [...subprogStarts].sort((a, b) => a - b);
  const subprogOf = new Int32Array(slotCount);
  for (let k = 0, slot = 0; slot < slotCount; slot++) {
    if (k + 1 < starts.length && starts[k + 1] === slot) k++;
    subprogOf[slot] = k;
  }
  for (const j of jumps) {
    if (subprogOf[j.from] !== subprogOf[j.to]) {
      throw new InvalidInstructionError(j.from, `jump to ${j.to} leaves its subprogram`);
    }
  }
  /** The instruction that ends just before each slot (its index), or -1. */
  const endingAt = new Int32Array(slotCount + 1).fill(-1);
  for (let n = 0; n < insns.length; n++) endingAt[slots[n + 1]] = n;
  starts.forEach((start, k) => {
    const end = k + 1 < starts.length ? starts[k + 1] : slotCount;
    const lastIdx = endingAt[end];
    const last = insns[lastIdx];
    const lastCode = last.opcode & CODE_MASK;
    const lastCls = last.opcode & CLASS_MASK;
    const endsFlow = (lastCls === BPF_JMP && (lastCode === BPF_EXIT || lastCode === BPF_JA))
      || (lastCls === BPF_JMP32 && lastCode === BPF_JA);
    if (!endsFlow) {
      throw new InvalidInstructionError(slots[lastIdx],
        `last instruction of the ${k === 0 ? 'program' : `subprogram at ${start}`} is not exit or an unconditional jump`);
    }
  });
  return { slots: slots.slice(0, insns.length), slotCount, subprogStarts: starts };
}

/** Field rules for one instruction, by class. spec §8.2–§8.6 */
function checkFields(ins: Instruction, fail: (reason: string) => never, refuse: (reason: string) => void): void {
  const { opcode, dst, src, off, imm } = ins;
  const cls = opcode & CLASS_MASK;
  const code = opcode & CODE_MASK;
  const op = hex(opcode, 2);
  const unknown = (): never => fail(`unknown opcode ${op}`);
  const reg = (r: number, what: string) => { if (r > FP) fail(`invalid ${what} register r${r}`); };
  const writable = (r: number) => {
    reg(r, 'destination');
    if (r === FP) refuse('frame pointer r10 is read only');
  };
  const zero = (v: number, field: string) => { if (v !== 0) fail(`reserved field ${field} must be 0 (is ${v}) for opcode ${op}`); };

  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const isX = (opcode & BPF_X) !== 0;
      writable(dst);
      if (code === BPF_NEG) {
        if (isX) unknown();
        zero(src, 'src'); zero(off, 'off'); zero(imm, 'imm');
      } else if (code === BPF_END) {
        if (cls === BPF_ALU64 && isX) unknown(); // ALU64 END is bswap, K only. spec §8.2
        zero(src, 'src'); zero(off, 'off');
        if (imm !== 16 && imm !== 32 && imm !== 64) fail(`byte swap width must be 16, 32 or 64 (is ${imm})`);
      } else if (ALU_BINARY.has(code)) {
        const isCast = cls === BPF_ALU64 && code === BPF_MOV && isX && off === BPF_ADDR_SPACE_CAST;
        if (isX) { reg(src, 'source'); if (!isCast) zero(imm, 'imm'); } else zero(src, 'src');
        if (code === BPF_DIV || code === BPF_MOD) {
          if (off !== 0 && off !== 1) fail(`offset of div/mod must be 0 or 1 (signed) (is ${off})`);
          if (!isX && imm === 0) refuse('div by zero'); // the verifier's check_alu_op rejects a constant 0 divisor
        } else if (code === BPF_MOV && isX && off !== 0) {
          if (isCast) {
            // spec §1.6: only as1 -> as0 (imm 1) and as0 -> as1 (imm 1 << 16).
            if (imm !== 1 && imm !== 0x10000) fail('addr_space_cast can only convert between address space 1 and 0');
          } else if (!(off === 8 || off === 16 || (off === 32 && cls === BPF_ALU64))) {
            fail(`sign-extension width of movsx must be 8, 16${cls === BPF_ALU64 ? ' or 32' : ''} (is ${off})`);
          }
        } else {
          zero(off, 'off');
        }
      } else {
        unknown();
      }
      return;
    }
    case BPF_JMP:
    case BPF_JMP32: {
      const isX = (opcode & BPF_X) !== 0;
      if (code === BPF_JA) {
        if (isX) fail('indirect jump (gotox) is not supported');
        zero(dst, 'dst'); zero(src, 'src');
        if (cls === BPF_JMP) zero(imm, 'imm'); else zero(off, 'off');
      } else if (JMP_COND.has(code)) {
        reg(dst, 'destination');
        if (isX) { reg(src, 'source'); zero(imm, 'imm'); } else zero(src, 'src');
      } else if (cls === BPF_JMP32) {
        unknown();
      } else if (code === BPF_CALL) {
        if (isX) {
          // callx: target in dst. spec §8.3
          reg(dst, 'call target'); zero(src, 'src'); zero(off, 'off'); zero(imm, 'imm');
        } else {
          zero(dst, 'dst');
          if (src > BPF_PSEUDO_KFUNC_CALL) fail(`call kind (src) must be 0, 1 or 2 (is ${src})`);
          if (src === BPF_PSEUDO_KFUNC_CALL) { if (off < 0) fail(`kfunc module index must be >= 0 (is ${off})`); } else zero(off, 'off');
          // libbpf's CO-RE poison (bpf_core_poison_insn): the verifier refuses it where it reaches it.
          if (src === 0 && imm === CORE_POISON_IMM) refuse(`call unknown#${CORE_POISON_IMM}: invalid func unknown#${CORE_POISON_IMM} (a CO-RE relocation libbpf poisoned)`);
        }
      } else if (code === BPF_EXIT) {
        if (isX) unknown();
        zero(dst, 'dst'); zero(src, 'src'); zero(off, 'off'); zero(imm, 'imm');
      } else if (code === BPF_JCOND) {
        if (isX) unknown();
        if (src !== 0) fail(`unknown conditional pseudo-jump (src ${src}); only may_goto (0) exists`);
        zero(dst, 'dst'); zero(imm, 'imm');
      } else {
        unknown();
      }
      return;
    }
    case BPF_LD:
      if (opcode !== OP_LDDW) {
        const mode = opcode & MODE_MASK;
        if (mode !== BPF_ABS && mode !== BPF_IND) unknown();
        // check_ld_abs (kernel/bpf/verifier.c): r0 is the implicit destination. spec program-types §3.2
        if (dst !== 0 || off !== 0 || (opcode & SIZE_MASK) === BPF_DW || (mode === BPF_ABS && src !== 0)) {
          fail('BPF_LD_[ABS|IND] uses reserved fields');
        }
        if (mode === BPF_IND) reg(src, 'source');
        return;
      }
      writable(dst); zero(off, 'off');
      if (src > 6) fail(`ld_imm64 pseudo source must be 0..6 (is ${src})`);
      return;
    case BPF_LDX: {
      const mode = opcode & MODE_MASK;
      if (mode !== BPF_MEM && !(mode === BPF_MEMSX && (opcode & SIZE_MASK) !== BPF_DW)) unknown();
      writable(dst); reg(src, 'source'); zero(imm, 'imm');
      return;
    }
    case BPF_ST:
      if ((opcode & MODE_MASK) !== BPF_MEM) unknown();
      reg(dst, 'base'); zero(src, 'src');
      return;
    case BPF_STX: {
      const mode = opcode & MODE_MASK;
      const size = opcode & SIZE_MASK;
      reg(dst, 'base'); reg(src, 'source');
      if (mode === BPF_MEM) { zero(imm, 'imm'); return; }
      if (mode !== BPF_ATOMIC) unknown();
      // spec §8.5: load-acquire is dst = *(src + off); store-release is *(dst + off) = src.
      if (imm === BPF_LOAD_ACQ) { writable(dst); return; }
      if (imm === BPF_STORE_REL) return;
      if (!ATOMIC_RMW.has(imm)) fail(`unknown atomic operation ${hex(imm >>> 0)}`);
      if (size !== BPF_W && size !== BPF_DW) fail('atomic read-modify-write operations exist only for 32 and 64 bits');
      if (imm & BPF_FETCH) writable(src);
      return;
    }
  }
  unknown();
}
