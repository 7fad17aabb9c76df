/**
 * Differential running of generated programs (src/fuzz/generate.ts): the same program on two
 * engines (or twice on one, for determinism), compared on everything observable — r0, the
 * instruction count, the final input memory, the error that ended the run (kind and
 * instruction), and for the arena variant the fault reports (read/write, address, frames)
 * and the final contents of the arena's pages.
 */
import { disassemble } from '../asm/disassembler.js';
import { prepareConformanceProgram } from '../conformance.js';
import { EngineName } from '../engines.js';
import { BpfError, isLocated } from '../errors.js';
import { insn, type Instruction } from '../isa/instruction.js';
import { validate } from '../isa/validate.js';
import { BPF_JA, BPF_JMP, OP_LDDW } from '../isa/opcodes.js';
import { AddressSpace } from '../memory.js';
import { ArenaMap } from '../maps/arena.js';
import { createMap } from '../maps/map.js';
import { BPF_F_MMAPABLE, BPF_MAP_TYPE_ARENA } from '../uapi.js';
import { ArenaInfo } from '../runtime.js';
import { ArenaLayout, FUZZ_ARENA_USER, FuzzProgram } from './generate.js';

/** Instructions a fuzz run may execute before it counts as runaway (both engines must agree on that too). */
export const FUZZ_BUDGET = 200_000;

/** What a run needs of a fuzz program. */
export type RunnableProgram = Pick<FuzzProgram, 'insns' | 'mem' | 'mayGotoBudget' | 'arena' | 'budget'>;

export interface Outcome {
  readonly r0?: bigint;
  readonly instructions?: number;
  /** The BpfError that ended the run: kind and faulting instruction. */
  readonly error?: { readonly kind: string; readonly index?: number };
  /** Anything else thrown: a bug in an engine, never expected. */
  readonly crash?: string;
  readonly mem: Uint8Array;
  readonly faults?: readonly string[];
  /** Final bytes of each present arena page, in page order. */
  readonly arenaPages?: readonly Uint8Array[];
}

interface ArenaRun {
  readonly info: ArenaInfo;
  readonly faults: string[];
  readonly pages: () => Uint8Array[];
}

/** A fresh arena laid out as `layout` says, recording its fault reports. */
function makeArena(layout: ArenaLayout): ArenaRun {
  const memory = new AddressSpace();
  const arena = createMap({ name: 'arena', type: BPF_MAP_TYPE_ARENA, keySize: 0, valueSize: 0, maxEntries: layout.pages,
    flags: BPF_F_MMAPABLE, mapExtra: FUZZ_ARENA_USER }, memory, { nrCpus: 1 }) as ArenaMap;
  for (const p of layout.present) {
    const got = arena.allocPages(FUZZ_ARENA_USER + BigInt(p * 4096), 1, -1, 0n, true);
    if (got === 0n) throw new Error(`fuzz: could not allocate arena page ${p}`);
  }
  const faults: string[] = [];
  return {
    info: {
      userVmStart: arena.userVmStart,
      noUserConv: arena.noUserConv,
      pageAt: (off) => arena.pageAtOffset(off),
      reportFault: (write, address, frames) => {
        faults.push(`${write ? 'WRITE' : 'READ'} 0x${address.toString(16)} [${frames.map((f) => (f.kind === 'bpf' ? f.pc : f.name)).join(' < ')}]`);
      },
    },
    faults,
    pages: () => layout.present.map((p) => arena.pageAtOffset(p * 4096)!.slice()),
  };
}

/** Runs `prog` once on `engine`, on fresh memory (and a fresh arena). */
export function runOn(engine: EngineName, prog: RunnableProgram): Outcome {
  const arena = prog.arena && makeArena(prog.arena);
  let input = prog.mem;
  const extra = (): Pick<Outcome, 'faults' | 'arenaPages'> => (arena ? { faults: arena.faults, arenaPages: arena.pages() } : {});
  try {
    const vm = prepareConformanceProgram(prog.insns, prog.mem, engine, { arena: arena?.info });
    input = vm.input;
    const { r0, instructions } = vm.run({ instructionBudget: prog.budget ?? FUZZ_BUDGET, mayGotoBudget: prog.mayGotoBudget });
    return { r0, instructions, mem: input.slice(), ...extra() };
  } catch (e) {
    if (e instanceof BpfError) {
      return { error: { kind: e.kind, index: isLocated(e) ? e.index : undefined }, mem: input.slice(), ...extra() };
    }
    return { crash: e instanceof Error ? `${e.name}: ${e.message}` : String(e), mem: input.slice(), ...extra() };
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The first observable difference between two outcomes, or undefined if they agree. */
export function compareOutcomes(a: Outcome, b: Outcome): string | undefined {
  const show = (o: Outcome) => o.crash !== undefined ? `crash (${o.crash})`
    : o.error ? `error ${o.error.kind} at ${o.error.index}` : `r0 0x${o.r0!.toString(16)}, ${o.instructions} instructions`;
  if (show(a) !== show(b)) return `${show(a)} vs ${show(b)}`;
  if (hex(a.mem) !== hex(b.mem)) return `input memory differs: ${hex(a.mem)} vs ${hex(b.mem)}`;
  const fa = (a.faults ?? []).join('; '), fb = (b.faults ?? []).join('; ');
  if (fa !== fb) return `arena faults differ: [${fa}] vs [${fb}]`;
  const pa = (a.arenaPages ?? []).map(hex), pb = (b.arenaPages ?? []).map(hex);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return `arena page ${i} differs`;
  }
  return undefined;
}

/**
 * The pairs of runs to compare: each engine after the first against the first; with one
 * engine, that engine against itself on fresh memory (determinism).
 */
export function enginePairs(engines: readonly EngineName[]): Array<[EngineName, EngineName]> {
  if (engines.length === 0) return [];
  if (engines.length === 1) return [[engines[0], engines[0]]];
  return engines.slice(1).map((e) => [engines[0], e]);
}

export interface Disagreement {
  readonly engines: [EngineName, EngineName];
  readonly what: string;
}

/**
 * The same program with an instruction budget that runs out part way (chosen from the seed in
 * [0, the instructions a full run takes]), so that the engines are compared where the budget
 * stops them: the instruction, the memory written and the faults reported until then.
 */
export function budgetStop(prog: FuzzProgram, engine: EngineName): FuzzProgram {
  const full = runOn(engine, prog).instructions ?? FUZZ_BUDGET;
  return { ...prog, budget: (Math.imul(prog.seed, 0x9e3779b1) >>> 0) % (full + 1) };
}

/** Runs a program on each pair; the first disagreement, or a crash of any engine. */
export function checkProgram(prog: RunnableProgram, engines: readonly EngineName[]): Disagreement | undefined {
  for (const pair of enginePairs(engines)) {
    const a = runOn(pair[0], prog), b = runOn(pair[1], prog);
    const what = compareOutcomes(a, b) ?? (a.crash !== undefined ? `crash: ${a.crash}` : undefined);
    if (what !== undefined) return { engines: pair, what };
  }
  return undefined;
}

const NOP = insn(BPF_JMP | BPF_JA); // ja +0

/** Replaces instruction k by no-ops of the same width (slots, hence jump offsets, stay put). */
function nopOut(insns: readonly Instruction[], k: number): Instruction[] {
  const out = insns.slice(0, k);
  out.push(NOP);
  if (insns[k].opcode === OP_LDDW) out.push(NOP);
  return out.concat(insns.slice(k + 1));
}

function isValid(insns: readonly Instruction[]): boolean {
  try { validate(insns); return true; } catch { return false; }
}

/**
 * Drops `ja +0` no-ops, re-aiming every jump and local call at the same instruction (or, for
 * a target that was a no-op, the next one kept). Undefined if the result would be invalid.
 */
function dropNops(insns: readonly Instruction[]): Instruction[] | undefined {
  const slots: number[] = [];
  let s = 0;
  for (const i of insns) { slots.push(s); s += i.opcode === OP_LDDW ? 2 : 1; }
  const total = s;
  const isNop = (i: Instruction) => i.opcode === NOP.opcode && i.off === 0 && i.imm === 0 && i.dst === 0 && i.src === 0;
  // newSlot[old slot] for every old slot (the first kept slot at or after it).
  const newSlot = new Int32Array(total + 1);
  let n = 0;
  insns.forEach((i, k) => {
    const w = i.opcode === OP_LDDW ? 2 : 1;
    for (let d = 0; d < w; d++) newSlot[slots[k] + d] = n + (isNop(i) ? 0 : d);
    if (!isNop(i)) n += w;
  });
  newSlot[total] = n;
  const out: Instruction[] = [];
  insns.forEach((i, k) => {
    if (isNop(i)) return;
    const from = newSlot[slots[k]] + 1;
    const cls = i.opcode & 0x07;
    const code = i.opcode & 0xf0;
    const retarget = (rel: number) => newSlot[slots[k] + 1 + rel] - from;
    if ((cls === 0x05 || cls === 0x06) && code !== 0x90 && code !== 0x80) {
      if (cls === 0x06 && code === 0x00) out.push({ ...i, imm: retarget(i.imm) });
      else out.push({ ...i, off: retarget(i.off) });
    } else if (i.opcode === 0x85 && i.src === 1) {
      out.push({ ...i, imm: retarget(i.imm) });
    } else {
      out.push(i);
    }
  });
  return isValid(out) ? out : undefined;
}

/**
 * Shrinks a disagreeing program: greedily turns instructions into no-ops while the program
 * stays valid and still disagrees, then removes the no-ops.
 */
export function shrinkProgram(prog: FuzzProgram, stillFails: (p: FuzzProgram) => boolean): FuzzProgram {
  let insns = prog.insns;
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = insns.length - 1; k >= 0; k--) {
      if (insns[k] === NOP) continue;
      const candidate = nopOut(insns, k);
      if (isValid(candidate) && stillFails({ ...prog, insns: candidate })) { insns = candidate; changed = true; }
    }
  }
  const compact = dropNops(insns);
  if (compact && stillFails({ ...prog, insns: compact })) insns = compact;
  return { ...prog, insns };
}

/** A listing of a program for a report: the disassembly, the input memory, the run options. */
export function describeProgram(prog: FuzzProgram): string {
  return [
    `seed ${prog.seed}, may_goto budget ${prog.mayGotoBudget}${prog.budget === undefined ? '' : `, instruction budget ${prog.budget}`}, input (${prog.mem.length} bytes) ${hex(prog.mem)}`,
    ...(prog.arena ? [`arena: ${prog.arena.pages} pages, present ${prog.arena.present.join(',') || 'none'}`] : []),
    ...disassemble(prog.insns),
  ].join('\n');
}
