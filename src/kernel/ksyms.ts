/**
 * `.ksyms` externs resolved per program (spec maps-and-kernel-objects §5.3, §5.4): kfuncs
 * against the natives registry, typed ksyms against the simulated kernel BTF's VARs by exact
 * name with libbpf's type compatibility (§4.6.2), typeless ksyms against the simulated
 * kallsyms (the kernel BTF's variables). An extern that does not resolve fails only the
 * programs that reference it, with libbpf's message; a weak one yields 0 (an unresolved weak
 * kfunc stays a poisoned call, an error if a run reaches it). A typed ksym whose type is
 * incompatible with the kernel's fails the object, weak or not, as in libbpf.
 */
import type { Btf, BtfType } from '../btf/btf.js';
import { LoadError } from '../errors.js';
import { BPF_CALL, BPF_JMP, BPF_LD, BPF_DW, BPF_IMM, BPF_PSEUDO_BTF_ID, BPF_PSEUDO_KFUNC_CALL } from '../isa/opcodes.js';
import type { ObjectSpec, ProgramSpec } from '../loader/spec.js';
import { ksymAddress } from '../addresses.js';
import { kernelBtf } from './kernel-btf.js';
import type { SimKernel } from './kernel.js';
import type { NativeRegistry } from './natives.js';

export interface KsymResolution {
  /** The ld_imm64 value of extern `index` (BPF_PSEUDO_BTF_ID): its address, or 0. */
  address(index: number): bigint;
  /** libbpf's message for each extern that did not resolve, by extern index. */
  readonly unresolved: ReadonlyMap<number, string>;
}

const MODS = new Set(['TYPEDEF', 'CONST', 'VOLATILE', 'RESTRICT', 'TYPE_TAG']);
function skipMods(btf: Btf, id: number): { t: BtfType; id: number } {
  let t = btf.type(id);
  while (MODS.has(t.kind)) { id = (t as { type: number }).type; t = btf.type(id); }
  return { t, id };
}

/** libbpf's bpf_core_types_are_compat (§4.6.2). */
export function typesAreCompat(local: Btf, localId: number, targ: Btf, targId: number, depth = 32): boolean {
  if (depth <= 0) return false;
  const l = skipMods(local, localId).t, t = skipMods(targ, targId).t;
  const kind = (x: BtfType) => (x.kind === 'ENUM64' ? 'ENUM' : x.kind);
  if (kind(l) !== kind(t)) return false;
  switch (l.kind) {
    case 'VOID': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': case 'FWD':
      return true;
    case 'INT':
      return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
    case 'PTR':
      return typesAreCompat(local, l.type, targ, (t as typeof l).type, depth - 1);
    case 'ARRAY':
      return typesAreCompat(local, l.type, targ, (t as typeof l).type, depth - 1);
    case 'FUNC_PROTO': {
      const tp = t as typeof l;
      if (l.params.length !== tp.params.length || l.variadic !== tp.variadic) return false;
      return l.params.every((p, i) => typesAreCompat(local, p.type, targ, tp.params[i].type, depth - 1))
        && typesAreCompat(local, l.returnType, targ, tp.returnType, depth - 1);
    }
    default:
      return false;
  }
}

/** libbpf's btf_kind_str. */
const kindStr = (t: BtfType) => (t.kind === 'VOID' ? 'void' : t.kind.toLowerCase());

/**
 * Resolves the object's ksym and kfunc externs (bpf_object__resolve_ksyms_btf_id); `absent` are
 * the kfuncs the emulated kernel version does not have, with the refusal it gives.
 */
export function resolveKsyms(spec: ObjectSpec, kernel: SimKernel, registry: NativeRegistry,
  absent: ReadonlyMap<string, string> = new Map()): KsymResolution {
  const addresses = new Map<number, bigint>();
  const unresolved = new Map<number, string>();
  const kb = kernelBtf();
  spec.externs.forEach((ext, i) => {
    if (ext.kind === 'kfunc') {
      if (registry.kfuncForExtern(ext.name)) addresses.set(i, ksymAddress(i));
      // A kfunc this kernel version lacks (the profile's) gets the verifier's words for it.
      else if (!ext.weak) {
        unresolved.set(i, absent.get(ext.name)
          ?? `extern (func ksym) '${ext.name}': not found in kernel or module BTFs (bpfrun has no such kfunc: register it in LoadOptions.kfuncs)`);
      }
      return;
    }
    if (ext.kind !== 'ksym') return;
    const btf = spec.btf!;
    const variable = btf.findByName(ext.name, 'VAR');
    const local = variable ? skipMods(btf, variable.type) : undefined;
    if (!local || local.t.kind === 'VOID') {
      // Typeless: the address from kallsyms (here, the kernel BTF's variables).
      const address = kernel.objects.perCpuAddress(ext.name);
      if (address !== undefined) addresses.set(i, address);
      else if (!ext.weak) unresolved.set(i, `extern '${ext.name}' (strong): not resolved`);
      return;
    }
    const targ = kb.btf.findByName(ext.name, 'VAR');
    const address = targ && kernel.objects.perCpuAddress(ext.name);
    if (!targ || address === undefined) {
      if (!ext.weak) unresolved.set(i, `extern (var ksym) '${ext.name}': not found in kernel BTF`);
      return;
    }
    if (!typesAreCompat(btf, local.id, kb.btf, targ.type)) {
      const t = skipMods(kb.btf, targ.type);
      throw new LoadError(`extern ${ext.name}`, `extern (var ksym) '${ext.name}': incompatible types, expected [${local.id}] ${kindStr(local.t)} ${local.t.name}, `
        + `but kernel has [${t.id}] ${kindStr(t.t)} ${t.t.name} (EINVAL)`);
    }
    addresses.set(i, address);
  });
  return { address: (index) => addresses.get(index) ?? 0n, unresolved };
}

/**
 * The first unresolved extern a program references (a kfunc call or an ld_imm64 of the extern):
 * its LoadError, as libbpf fails the program's load; undefined if it references none.
 */
export function unresolvedExternError(p: ProgramSpec, resolution: KsymResolution): LoadError | undefined {
  if (resolution.unresolved.size === 0) return undefined;
  for (const insn of p.insns) {
    const ref = (insn.opcode === (BPF_JMP | BPF_CALL) && insn.src === BPF_PSEUDO_KFUNC_CALL)
      || (insn.opcode === (BPF_LD | BPF_DW | BPF_IMM) && insn.src === BPF_PSEUDO_BTF_ID);
    const message = ref ? resolution.unresolved.get(insn.imm) : undefined;
    if (message) return new LoadError(`program ${p.name}`, message);
  }
  return undefined;
}
