/**
 * Fuzzing whole objects: a real object (progs/*.o) mutated by a seed — truncated, bits
 * flipped, words overwritten — loaded and run on every engine, with the kfuncs the object needs
 * and the runtime lacks given hostile behaviours chosen by the seed (returning a string, a
 * Promise, a bigint past 64 bits, throwing a non-Error, touching unmapped arena pages). Every
 * outcome must be a typed BpfError or a clean run, and the engines must agree on it: the load
 * error, or each program's result or error.
 */
import { BpfError } from '../errors.js';
import { EngineName } from '../engines.js';
import type { KfuncImpl } from '../kfunc/api.js';
import { openObject } from '../object.js';
import { enginePairs, type Disagreement } from './diff.js';
import { Rng } from './generate.js';

/** Instructions each program of a mutated object may run. */
const OBJECT_BUDGET = 20_000;

/** One mutation of `bytes`: a truncation, a few bit flips, or a 32-bit word overwritten. */
export function mutateObject(bytes: Uint8Array, rng: Rng): { data: Uint8Array; what: string } {
  const pick = (n: number) => rng.int(n);
  const kind = pick(3);
  if (kind === 0) {
    const len = pick(bytes.length);
    return { data: bytes.slice(0, len), what: `truncate to ${len}` };
  }
  const data = bytes.slice();
  if (kind === 1) {
    const flips: number[] = [];
    for (let k = 0; k < 1 + pick(8); k++) { const at = pick(data.length); data[at] ^= 1 << pick(8); flips.push(at); }
    return { data, what: `flip bits at ${flips.join(',')}` };
  }
  const at = pick(Math.max(1, data.length - 4));
  new DataView(data.buffer).setUint32(at, rng.u32(), true);
  return { data, what: `overwrite word at ${at}` };
}

/** Behaviours a hostile kfunc may have; `kfuncBehaviour(k)` builds the k-th. */
export const KFUNC_BEHAVIOURS = [
  'returns its first argument', 'returns a string', 'returns a Promise', 'returns 2^100', 'returns true',
  'throws an Error', 'throws a null-prototype object', 'reads the arena page its first argument names',
  'writes far past its first argument', 'returns -1',
] as const;

function kfuncBehaviour(k: number): KfuncImpl {
  switch (k % KFUNC_BEHAVIOURS.length) {
    case 0: return (ctx) => ctx.arg(1);
    case 1: return () => 'abc' as unknown as number;
    case 2: return () => Promise.resolve(1) as unknown as number;
    case 3: return () => 1n << 100n;
    case 4: return () => true as unknown as number;
    case 5: return () => { throw new Error('hostile kfunc'); };
    case 6: return () => { throw Object.create(null); };
    case 7: return (ctx, kernel) => kernel.readU32(kernel.arenaKernAddr(ctx.arg(1)));
    case 8: return (ctx, kernel) => { kernel.writeU64(kernel.arenaKernAddr(ctx.arg(1)) + (1n << 20n), 7n); };
    default: return () => -1;
  }
}

/** What one engine made of a mutated object: the load error, or each program's result. */
export interface ObjectOutcome {
  readonly load?: string;
  readonly runs: readonly string[];
  /** Anything other than a BpfError: a bug in bpfrun. */
  readonly crash?: string;
}

const describeError = (e: BpfError) => `${e.kind}: ${e.message}`;

/** Opens, loads and runs every program of `data` on `engine`, the unprovided kfuncs hostile as `seed` says. */
export function runObject(data: Uint8Array, name: string, engine: EngineName, seed: number): ObjectOutcome {
  const runs: string[] = [];
  try {
    const opened = openObject(data, name);
    const kfuncs: Record<string, KfuncImpl> = {};
    opened.spec.externs.forEach((ext, i) => {
      if (ext.kind === 'kfunc' && !ext.weak && !ext.name.startsWith('bpf_')) kfuncs[ext.name] = kfuncBehaviour(seed + i);
    });
    const loaded = opened.load({ engine, kfuncs });
    for (const p of loaded.programs) {
      try {
        const r = p.run({ instructionBudget: OBJECT_BUDGET });
        runs.push(`${p.name}: ${r.retval} after ${r.instructions}; ${p.streams.stderr.readAll()}`);
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        runs.push(`${p.name}: ${describeError(e)}`);
      }
    }
    return { runs };
  } catch (e) {
    if (e instanceof BpfError) return { load: describeError(e), runs };
    return { crash: e instanceof Error ? e.stack ?? e.message : String(e), runs };
  }
}

/** The first disagreement between engines on a mutated object, or a crash of any engine. */
export function checkObject(data: Uint8Array, name: string, seed: number, engines: readonly EngineName[]): Disagreement | undefined {
  for (const pair of enginePairs(engines)) {
    const [a, b] = pair.map((e) => runObject(data, name, e, seed));
    if (a.crash !== undefined || b.crash !== undefined) return { engines: pair, what: `crash: ${a.crash ?? b.crash}` };
    const [sa, sb] = [JSON.stringify(a), JSON.stringify(b)];
    if (sa !== sb) return { engines: pair, what: `outcomes differ:\n  ${sa}\n  ${sb}` };
  }
  return undefined;
}
