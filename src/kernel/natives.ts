/**
 * The natives a loaded object's programs may call, in one registry: helpers by id (and their
 * kernel names), kfuncs by name with their flags. It is built once per kernel from the
 * built-in helpers and kfuncs, the arena and stream kfuncs and the user's kfuncs (a later
 * kfunc of the same name replaces an earlier one), then bound to an object's externs.
 */
import { UnknownKfuncError } from '../errors.js';
import { essentialName } from '../loader/core.js';
import type { ExternSpec } from '../loader/spec.js';
import type { HelperDef, NativeFn, Natives } from '../runtime.js';

export interface KfuncEntry {
  readonly name: string;
  readonly fn: NativeFn;
  /** KF_SLEEPABLE: only sleepable programs may call it. */
  readonly sleepable?: boolean;
}

export class NativeRegistry {
  private readonly helperById: ReadonlyMap<number, HelperDef>;
  private readonly kfuncByName = new Map<string, KfuncEntry>();

  constructor(helpers: ReadonlyMap<number, HelperDef>) {
    this.helperById = helpers;
  }

  addKfunc(entry: KfuncEntry): void {
    this.kfuncByName.set(entry.name, entry);
  }

  addKfuncs(kfuncs: Iterable<readonly [string, NativeFn]>): void {
    for (const [name, fn] of kfuncs) this.addKfunc({ name, fn });
  }

  /** Removes a built-in kfunc the emulated kernel does not have (a user kfunc may add it back). */
  removeKfunc(name: string): void {
    this.kfuncByName.delete(name);
  }

  helper(id: number): HelperDef | undefined {
    return this.helperById.get(id);
  }

  kfunc(name: string): KfuncEntry | undefined {
    return this.kfuncByName.get(name);
  }

  /**
   * The kfunc an extern resolves to: libbpf looks it up by its essential name (the name cut
   * before its last `X___Y` flavour separator: `scx_bpf_dsq_insert___v2___compat` is the
   * kernel's `scx_bpf_dsq_insert___v2`; sched-ext.md §1.7); bpfrun also accepts a kfunc
   * registered under the extern's full name.
   */
  kfuncForExtern(name: string): KfuncEntry | undefined {
    return this.kfuncByName.get(essentialName(name)) ?? this.kfuncByName.get(name);
  }

  /**
   * What the engines call: helpers by id, and an object's kfunc externs by extern index (the
   * loader's `call src=2` imm). A kfunc extern the registry lacks becomes a poisoned call (an
   * UnknownKfuncError if a run reaches it); whether its programs load is decided per program
   * (./ksyms.ts: a strong one fails the programs that reference it, spec §5.4).
   */
  bind(externs: readonly ExternSpec[]): Natives {
    const kfuncs = new Map<number, HelperDef>();
    externs.forEach((ext, i) => {
      if (ext.kind !== 'kfunc') return;
      const entry = this.kfuncForExtern(ext.name);
      if (entry) kfuncs.set(i, { name: ext.name, fn: entry.fn });
      else kfuncs.set(i, { name: ext.name, fn: (ctx) => { throw new UnknownKfuncError(ctx.index, ext.name); } });
    });
    return { helpers: this.helperById, kfuncs };
  }
}
