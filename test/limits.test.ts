// The kernel's limits on programs, and inputs large enough that a quadratic or recursive walk
// would overflow the stack or time out (reliability defects 9 and 13). Each test asserts on the
// result, never on the time taken: mocha's timeout is what catches a regression.
import assert from 'node:assert/strict';
import { ENGINES } from '../src/engines.js';
import { InvalidInstructionError, LoadError } from '../src/errors.js';
import { checkFunctionPointers } from '../src/isa/func-ptr.js';
import { insn, Instruction } from '../src/isa/instruction.js';
import { BPF_COMPLEXITY_LIMIT_INSNS, BPF_MAX_SUBPROGS, validate } from '../src/isa/validate.js';
import { parseObject } from '../src/loader/parse.js';
import { formatRunReport } from '../src/report.js';
import type { RunData } from '../src/runs.js';

const EXIT = insn(0x95);
const MOV0 = insn(0xb7, 0, 0, 0, 0); // r0 = 0
const JEQ_NEXT = insn(0x15, 0, 0, 0, 0); // if r0 == 0 goto +0
/** A BPF-to-BPF call from slot `at` to slot `to`. */
const call = (at: number, to: number) => insn(0x85, 0, 1, 0, to - at - 1);

/** The message of the InvalidInstructionError validate throws for `insns` (it names the slot). */
function invalid(insns: Instruction[]): string {
  try {
    validate(insns);
  } catch (e) {
    if (e instanceof InvalidInstructionError) return e.message;
    throw e;
  }
  return assert.fail('validate accepted the program');
}

/**
 * main calls subprograms 1..n-1 in turn (and, with `funcPtr`, loads the last one's address into
 * r2); each subprogram is `body` conditional jumps, then exit.
 */
function subprograms(n: number, body: number, funcPtr = false): Instruction[] {
  const mainSlots = n + (funcPtr ? 2 : 0); // n-1 calls, the ld_imm64, an exit
  const start = (i: number) => mainSlots + (i - 1) * (body + 1);
  const out: Instruction[] = [];
  for (let i = 1; i < n; i++) out.push(call(i - 1, start(i)));
  if (funcPtr) out.push(insn(0x18, 2, 4, 0, start(n - 1) - (n - 1) - 1, 0)); // r2 = &subprogram n-1
  out.push(EXIT);
  for (let i = 1; i < n; i++) {
    for (let k = 0; k < body; k++) out.push(JEQ_NEXT);
    out.push(EXIT);
  }
  return out;
}

describe('kernel limits on programs (validate)', () => {
  it('refuses more than BPF_MAX_SUBPROGS subprograms at the call that adds one too many', () => {
    assert.equal(BPF_MAX_SUBPROGS, 256);
    assert.equal(validate(subprograms(256, 0)).subprogStarts.length, 256);
    assert.match(invalid(subprograms(257, 0)), /^invalid instruction 255: too many subprograms: the one at 512 is past BPF_MAX_SUBPROGS \(256\): E2BIG/);
    // 100 000 subprograms once took 41 s (quadratic); now the 257th is refused as it is found.
    assert.match(invalid(subprograms(100_000, 0)), /^invalid instruction 255: too many subprograms/);
  });

  it('refuses more than BPF_COMPLEXITY_LIMIT_INSNS instructions (bpf_prog_load E2BIG)', () => {
    const big = new Array<Instruction>(BPF_COMPLEXITY_LIMIT_INSNS + 1).fill(MOV0);
    big[big.length - 1] = EXIT;
    assert.match(invalid(big), /^invalid instruction 1000000: program has 1000001 instructions, more than BPF_COMPLEXITY_LIMIT_INSNS \(1000000\): E2BIG/);
    // Counted in slots: ld_imm64 takes two.
    const wide = new Array<Instruction>(BPF_COMPLEXITY_LIMIT_INSNS / 2 + 1).fill(insn(0x18, 1, 0, 0, 1, 2));
    wide.push(EXIT);
    assert.match(invalid(wide), /^invalid instruction 1000000: program has 1000003 instructions/);
  });

  it('validates the largest legal shape, 256 subprograms of jumps in 1M slots, in linear time', () => {
    const body = Math.floor(BPF_COMPLEXITY_LIMIT_INSNS / BPF_MAX_SUBPROGS) - 2;
    // The function pointer makes the function-pointer dataflow run over it all.
    const insns = subprograms(BPF_MAX_SUBPROGS, body, true);
    const layout = validate(insns);
    assert.ok(layout.slotCount <= BPF_COMPLEXITY_LIMIT_INSNS && layout.slotCount > 0.99 * BPF_COMPLEXITY_LIMIT_INSNS);
    assert.equal(layout.subprogStarts.length, BPF_MAX_SUBPROGS);
    assert.equal(layout.subprogStarts.at(-1), BPF_MAX_SUBPROGS + 2 + (BPF_MAX_SUBPROGS - 2) * (body + 1));
    checkFunctionPointers(insns, layout, () => undefined);
  });
});

describe('report over very many globals', () => {
  it('formats 150 000 globals (Math.max(...names) overflowed the stack)', () => {
    const n = 150_000;
    const globals = Array.from({ length: n }, (_, i) => ({ name: `v${i}`, section: '.bss', bytes: new Uint8Array(1), value: 0n }));
    const data: RunData = { engine: ENGINES[0], programs: [], globals, trace: [], events: [], droppedEvents: 0 };
    const lines = formatRunReport(data).split('\n');
    assert.equal(lines.filter((l) => l.startsWith('  v')).length, n);
    assert.equal(lines.at(-1), `  v149999  .bss           0`);
  });
});

// ---- A minimal BPF ELF built in memory: .text functions, and programs in `syscall` whose calls
// into .text are relocated against function symbols. ----

/** 8-byte instruction words. */
type Word = readonly [op: number, regs: number, off: number, imm: number];
function code(insns: readonly Word[]): Uint8Array {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([op, regs, off, imm], k) => { b[k * 8] = op; b[k * 8 + 1] = regs; b.writeInt16LE(off, k * 8 + 2); b.writeInt32LE(imm, k * 8 + 4); });
  return b;
}

interface Fn { readonly name: string; readonly slot: number; readonly slots: number }

/**
 * `text`: .text code and its functions; programs: each a list of .text function indices it
 * calls (by relocation), then exit.
 */
function buildObject(text: Uint8Array, textFns: readonly Fn[], programs: readonly (readonly number[])[]): Uint8Array {
  const strtab = ['\0'];
  let strSize = 1;
  const str = (s: string) => { const o = strSize; strtab.push(s + '\0'); strSize += s.length + 1; return o; };
  const syms: Buffer[] = [Buffer.alloc(24)];
  const sym = (name: string, shndx: number, value: number, size: number) => {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(str(name), 0);
    b[4] = 0x12; // STB_GLOBAL, STT_FUNC
    b.writeUInt16LE(shndx, 6);
    b.writeBigUInt64LE(BigInt(value), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
    syms.push(b);
    return syms.length - 1;
  };
  const textSyms = textFns.map((f) => sym(f.name, 1, f.slot * 8, f.slots * 8));
  const prog: Word[] = [];
  const rels: Buffer[] = [];
  programs.forEach((calls, p) => {
    sym(`p${p}`, 2, prog.length * 8, (calls.length + 1) * 8);
    for (const c of calls) {
      const rel = Buffer.alloc(16);
      rel.writeBigUInt64LE(BigInt(prog.length * 8), 0);
      rel.writeUInt32LE(10, 8); // R_BPF_64_32
      rel.writeUInt32LE(textSyms[c]!, 12);
      rels.push(rel);
      prog.push([0x85, 1 << 4, 0, -1]); // call, src = BPF_PSEUDO_CALL
    }
    prog.push([0x95, 0, 0, 0]);
  });
  const shstr = Buffer.from('\0.text\0syscall\0.relsyscall\0.symtab\0.strtab\0.shstrtab\0');
  const name = (n: string) => shstr.indexOf(`\0${n}\0`) + 1;
  const bodies = [text, code(prog), Buffer.concat(rels), Buffer.concat(syms), Buffer.from(strtab.join('')), shstr];
  // [sh_name, sh_type, sh_flags, sh_link, sh_info, sh_entsize] for sections 1..6
  const headers = [
    [name('.text'), 1, 6, 0, 0, 0], [name('syscall'), 1, 6, 0, 0, 0], [name('.relsyscall'), 9, 0, 4, 2, 16],
    [name('.symtab'), 2, 0, 5, 1, 24], [name('.strtab'), 3, 0, 0, 0, 0], [name('.shstrtab'), 3, 0, 0, 0, 0],
  ];
  let offset = 64;
  const offsets = bodies.map((b) => { const o = offset; offset += (b.length + 7) & ~7; return o; });
  const shoff = offset;
  const out = Buffer.alloc(shoff + 7 * 64);
  out.writeUInt32LE(0x464c457f, 0);
  out[4] = 2; out[5] = 1; out[6] = 1;
  out.writeUInt16LE(1, 16); // ET_REL
  out.writeUInt16LE(247, 18); // EM_BPF
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt16LE(64, 52);
  out.writeUInt16LE(64, 58);
  out.writeUInt16LE(7, 60);
  out.writeUInt16LE(6, 62);
  bodies.forEach((b, i) => {
    out.set(b, offsets[i]);
    const at = shoff + (i + 1) * 64;
    const [nm, type, flags, link, info, entsize] = headers[i]!;
    out.writeUInt32LE(nm!, at);
    out.writeUInt32LE(type!, at + 4);
    out.writeBigUInt64LE(BigInt(flags!), at + 8);
    out.writeBigUInt64LE(BigInt(offsets[i]!), at + 24);
    out.writeBigUInt64LE(BigInt(b.length), at + 32);
    out.writeUInt32LE(link!, at + 40);
    out.writeUInt32LE(info!, at + 44);
    out.writeBigUInt64LE(8n, at + 48);
    out.writeBigUInt64LE(BigInt(entsize!), at + 56);
  });
  return new Uint8Array(out);
}

describe('loader limits over many functions', () => {
  it('refuses a program that links more than BPF_MAX_SUBPROGS functions', () => {
    // .text function j calls function j+1 (pc-relative): linking p0 would place all 300.
    const n = 300;
    const text = code(Array.from({ length: 2 * n }, (_, k): Word => (k % 2 === 1 ? [0x95, 0, 0, 0] : k < 2 * n - 2 ? [0x85, 1 << 4, 0, 1] : [0xb7, 0, 0, 0])));
    const fns = Array.from({ length: n }, (_, j) => ({ name: `f${j}`, slot: 2 * j, slots: 2 }));
    assert.throws(() => parseObject(buildObject(text, fns, [[0]])), (e: unknown) => {
      assert.ok(e instanceof LoadError, String(e));
      assert.equal(e.where, 'program p0');
      assert.match(e.reason, /too many subprograms: f255 would be number 257, past BPF_MAX_SUBPROGS \(256\)/);
      return true;
    });
  });

  it('links 1000 programs of 255 calls each into 100 000 .text functions (a search per call was quadratic)', () => {
    const n = 100_000;
    const text = code(Array.from({ length: 2 * n }, (_, k): Word => (k % 2 === 0 ? [0xb7, 0, 0, k / 2] : [0x95, 0, 0, 0])));
    const fns = Array.from({ length: n }, (_, j) => ({ name: `f${j}`, slot: 2 * j, slots: 2 }));
    const programs = Array.from({ length: 1000 }, (_, p) => Array.from({ length: 255 }, (_, i) => (p * 97 + i * 391) % n));
    const spec = parseObject(buildObject(text, fns, programs));
    assert.equal(spec.programs.length, 1000);
    const last = spec.programs[999]!;
    assert.equal(last.functions.length, 256);
    assert.equal(last.functions[255]!.name, `f${(999 * 97 + 254 * 391) % n}`);
    assert.equal(last.insns.length, 256 + 255 * 2);
    assert.equal(validate(last.insns).subprogStarts.length, 256);
  });

  it('reads 150 000 relocations of one section (they were spread into push)', () => {
    const text = code([[0xb7, 0, 0, 0], [0x95, 0, 0, 0]]);
    const spec = parseObject(buildObject(text, [{ name: 'f0', slot: 0, slots: 2 }], [new Array<number>(150_000).fill(0)]));
    const p0 = spec.programs[0]!;
    assert.equal(p0.insns.length, 150_000 + 1 + 2);
    assert.equal(p0.functions.length, 2);
    // Each call lands on f0, placed right after the exit.
    assert.deepEqual([p0.insns[0]!.imm, p0.insns[149_999]!.imm], [150_000, 1]);
  });
});
