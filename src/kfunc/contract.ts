/**
 * The `GUARD_SZ / 2` contract of the direct-access series, as an access guard: a kfunc may touch
 * arena memory at most 32 KiB past an arena pointer it was handed (kernel-arena-streams.md
 * §1.2, §3). ./bind.ts pushes one guard per strict typed kfunc call on the ArenaKernel's guard
 * stack; the kernel layer only calls it.
 */
import { CallSite, KfuncContractError } from '../errors.js';
import type { AccessGuard } from '../kernel/arena-access.js';
import { GUARD_SZ } from '../uapi.js';

/** The arena pointer arguments of the kfunc call in progress, for the strict contract check. */
export interface ContractScope {
  readonly site: CallSite;
  /** Kernel addresses of the arena arguments, by argument index. */
  readonly arenaArgs: ReadonlyMap<number, bigint>;
}

/**
 * Throws KfuncContractError when [addr, addr + size) is not within GUARD_SZ / 2 bytes past
 * one of the call's arena pointer arguments.
 */
export function checkContract(scope: ContractScope, addr: bigint, size: number): void {
  const limit = BigInt(GUARD_SZ / 2);
  let nearest: { index: number; offset: bigint } | undefined;
  for (const [index, base] of scope.arenaArgs) {
    const offset = addr - base;
    if (offset >= 0n && offset + BigInt(size) <= limit) return;
    const distance = offset < 0n ? -offset : offset;
    if (!nearest || distance < (nearest.offset < 0n ? -nearest.offset : nearest.offset)) nearest = { index, offset };
  }
  throw new KfuncContractError(scope.site, nearest?.index, nearest?.offset, addr, size);
}

/** The guard that enforces `scope` on the call's kernel-side arena accesses. */
export function contractGuard(scope: ContractScope): AccessGuard {
  return (addr, size) => checkContract(scope, addr, size);
}
