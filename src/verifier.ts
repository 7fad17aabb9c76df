/**
 * The parts of the kernel verifier bpfrun emulates beyond the structural checks of
 * src/isa/validate.ts and src/isa/func-ptr.ts:
 * - KF_SLEEPABLE: a non-sleepable program may not call a sleepable kfunc (at load);
 * - KF_ACQUIRE / KF_RELEASE references: checked on the path that ran, at the end of a run,
 *   where the verifier proves every path releases them at load;
 * - which `bpf_loop` calls the verifier inlines (no helper frame in stack dumps);
 * - the map types a sleepable program may use (check_map_prog_compatibility, at load).
 * Not emulated: value and type tracking (bounds, pointer kinds, liveness). Memory safety is
 * checked at run time by the engines instead, and a program the verifier would reject for a
 * reason not listed here loads and runs.
 */
import { LoadError, RuntimeError, SourceLocation } from './errors.js';
import { Instruction, width } from './isa/instruction.js';
import {
  BPF_ALU, BPF_ALU64, BPF_CALL, BPF_EXIT, BPF_JA, BPF_JMP, BPF_JMP32, BPF_K, BPF_MOV, BPF_PSEUDO_KFUNC_CALL, BPF_ST, BPF_STX,
  CLASS_MASK, CODE_MASK,
} from './isa/opcodes.js';
import type { ProgramSpec } from './loader/spec.js';
import type { Btf } from './btf/btf.js';
import type { Natives } from './runtime.js';
import {
  BPF_FUNC, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_CGRP_STORAGE, BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_INSN_ARRAY, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PROG_ARRAY, BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_TASK_STORAGE, BPF_MAP_TYPE_USER_RINGBUF,
} from './uapi.js';

/**
 * check_map_prog_compatibility (kernel/bpf/verifier.c): the map types a sleepable program may
 * use (7.2 also allows its RHASH, which bpfrun does not have). A PERF_EVENT_ARRAY, for one, is
 * refused: a SEC("syscall") program cannot call bpf_perf_event_output. spec maps §2.9
 */
const SLEEPABLE_MAP_TYPES: ReadonlySet<number> = new Set([
  BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS, BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_USER_RINGBUF, BPF_MAP_TYPE_INODE_STORAGE, BPF_MAP_TYPE_SK_STORAGE, BPF_MAP_TYPE_TASK_STORAGE,
  BPF_MAP_TYPE_CGRP_STORAGE, BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK, BPF_MAP_TYPE_ARENA, BPF_MAP_TYPE_INSN_ARRAY, BPF_MAP_TYPE_PROG_ARRAY,
]);

/** The verifier's rule on the maps of a sleepable program, at load ("Sleepable programs can only use ..."). */
export function checkSleepableMaps(spec: ProgramSpec, maps: ReadonlyArray<{ readonly name: string; readonly type: number }>): void {
  if (!spec.type.sleepable) return;
  for (const index of spec.mapRefs) {
    const m = maps[index];
    if (m === undefined || SLEEPABLE_MAP_TYPES.has(m.type)) continue;
    throw new LoadError(`program ${spec.name}`,
      `map '${m.name}': Sleepable programs can only use array, hash, ringbuf and local storage maps`);
  }
}

/**
 * Exception callbacks (a `DECL_TAG "exception_callback:<fn>"` on the program, elf-loading.md
 * §1.3) are not supported: bpf_throw always unwinds to the default callback, which returns the
 * cookie (kernel/bpf/fixups.c: r0 = r1). A program that names its own is refused at load rather
 * than run with the wrong callback.
 */
export function checkExceptionCallback(spec: ProgramSpec, btf: Btf | undefined): void {
  const func = btf?.findByName(spec.name, 'FUNC');
  if (!btf || !func) return;
  for (const t of btf.types) {
    if (t.kind === 'DECL_TAG' && t.type === func.id && t.componentIdx === -1 && t.name.startsWith('exception_callback:')) {
      throw new LoadError(`program ${spec.name}`,
        `its exception callback ${t.name.slice('exception_callback:'.length)} is not supported by bpfrun (bpf_throw returns the cookie, as the default callback)`);
    }
  }
}

/** The verifier's KF_SLEEPABLE rule, at load: a non-sleepable program may not call a sleepable kfunc. */
export function checkSleepableKfuncs(spec: ProgramSpec, natives: Natives, isSleepable: (kfunc: string) => boolean,
  sourceOf: (slot: number) => SourceLocation | undefined): void {
  if (spec.type.sleepable) return;
  spec.insns.forEach((insn, i) => {
    if (insn.opcode !== (BPF_JMP | BPF_CALL) || insn.src !== BPF_PSEUDO_KFUNC_CALL) return;
    const name = natives.kfuncs.get(insn.imm)?.name;
    if (name === undefined || !isSleepable(name)) return;
    const src = sourceOf(i);
    throw new LoadError(`program ${spec.name}`,
      `insn ${i}: program must be sleepable to call sleepable kfunc ${name}${src ? ` (${src.file}:${src.line})` : ''}`);
  });
}

/**
 * References held by a run: what KF_ACQUIRE kfuncs returned and KF_RELEASE kfuncs have not
 * taken back, with the verifier's reference ids and messages.
 */
export class References {
  private readonly held = new Map<bigint, { id: number; insn: number }>();
  private nextId = 1;

  /** A new run holds nothing. */
  clear(): void {
    if (this.held.size !== 0) this.held.clear();
    this.nextId = 1;
  }

  /** A KF_ACQUIRE kfunc called at `insn` returned the (non-NULL) reference `pointer`. */
  acquire(pointer: bigint, insn: number): void {
    this.held.set(pointer, { id: this.nextId++, insn });
  }

  /** A KF_RELEASE kfunc takes its first argument back. */
  release(pointer: bigint, kfunc: string, insn: number): void {
    if (!this.held.delete(pointer)) throw new RuntimeError(insn, `release kernel function ${kfunc} expects refcounted PTR_TO_BTF_ID`);
  }

  /** At exit: the first reference still held is the verifier's "Unreleased reference" error. */
  checkReleased(): void {
    if (this.held.size === 0) return;
    const leaked = this.held.values().next().value;
    if (leaked) throw new RuntimeError(leaked.insn, `Unreleased reference id=${leaked.id} alloc_insn=${leaked.insn}`);
  }
}

const isJumpClass = (opcode: number) => (opcode & CLASS_MASK) === BPF_JMP || (opcode & CLASS_MASK) === BPF_JMP32;
const OP_CALL_HELPER = BPF_JMP | BPF_CALL;
const OP_MOV64_K = BPF_ALU64 | BPF_MOV | BPF_K;
const OP_MOV32_K = BPF_ALU | BPF_MOV | BPF_K;

/**
 * Slots of `call bpf_loop` whose flags argument (r4) the verifier knows to be 0: the last
 * write to r4 in the same basic block is `r4 = 0` / `w4 = 0`. The verifier inlines those
 * calls (its loop_flag_is_zero / fit_for_inline), so no bpf_loop frame appears in their stacks.
 */
export function inlinableLoopCalls(insns: readonly Instruction[]): Set<number> {
  const slots: number[] = [];
  const targets = new Set<number>();
  let slot = 0;
  for (const ins of insns) {
    slots.push(slot);
    const code = ins.opcode & CODE_MASK;
    if (isJumpClass(ins.opcode) && code !== BPF_CALL && code !== BPF_EXIT) {
      targets.add(slot + 1 + (ins.opcode === (BPF_JMP32 | BPF_JA) ? ins.imm : ins.off));
    }
    slot += width(ins);
  }
  const sites = new Set<number>();
  insns.forEach((ins, k) => {
    if (ins.opcode !== OP_CALL_HELPER || ins.src !== 0 || ins.imm !== BPF_FUNC.loop) return;
    for (let j = k - 1; j >= 0 && !targets.has(slots[j + 1]); j--) {
      const w = insns[j];
      if (isJumpClass(w.opcode)) return; // a jump, call or exit ends the block
      const cls = w.opcode & CLASS_MASK;
      if (w.dst !== 4 || cls === BPF_ST || cls === BPF_STX) continue; // not a write of r4
      if ((w.opcode === OP_MOV64_K || w.opcode === OP_MOV32_K) && w.imm === 0 && w.off === 0) sites.add(slots[k]);
      return;
    }
  });
  return sites;
}
