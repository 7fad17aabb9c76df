/**
 * The simulated cgroup hierarchy (cgroup v2) a workload declares: each cgroup a `struct cgroup`
 * in kernel memory, laid out as the simulated kernel BTF says, with its `kernfs_node` (whose
 * `id` is the cgroup id BPF sees), its `level` and its `ancestors[]` (itself last), as
 * bpf_cgroup_ancestor and the schedulers read them (sched-ext.md §2.9). The root is cgroup 1 at
 * level 0; the others take ids 2, 3, ... in declaration order.
 */
import { kernelBtf } from '../kernel/kernel-btf.js';
import { AddressSpace } from '../memory.js';
import type { SimKernel } from '../kernel/kernel.js';
import type { CgroupSpec } from './workload.js';

export interface SimCgroup {
  readonly path: string;
  readonly id: bigint;
  readonly level: number;
  /** cpu.weight (1..10000; the root's is 100). */
  readonly weight: number;
  readonly parent?: SimCgroup;
  /** The address of its struct cgroup. */
  readonly address: bigint;
}

export class CgroupTree {
  /** Pre-order: the root first, every cgroup after its parent (cgroup_init's order, §2.2 step 12). */
  readonly all: readonly SimCgroup[];
  readonly root: SimCgroup;
  private readonly byPath = new Map<string, SimCgroup>();
  private readonly byAddress = new Map<bigint, SimCgroup>();

  constructor(kernel: SimKernel, specs: readonly CgroupSpec[]) {
    const k = kernelBtf();
    const cgSize = k.structSize('cgroup'), knSize = k.structSize('kernfs_node');
    const ancestorsAt = k.offsetOf('cgroup', 'ancestors');
    const entries = [{ path: '/', weight: 100 }, ...specs];
    const levelOf = (path: string) => (path === '/' ? 0 : path.split('/').length - 1);
    const stride = (e: { path: string }) => Math.ceil((cgSize + 8 * (levelOf(e.path) + 1) + knSize) / 64) * 64;
    const region = kernel.memory.map('cgroups (struct cgroup, kernfs_node)', new Uint8Array(entries.reduce((n, e) => n + stride(e), 0)), false);
    const base = AddressSpace.address(region), v = region.view;
    let offset = 0;
    const made: SimCgroup[] = [];
    entries.forEach((e, i) => {
      const level = levelOf(e.path);
      const parent = level === 0 ? undefined : this.byPath.get(e.path.slice(0, e.path.lastIndexOf('/')) || '/');
      const address = base + BigInt(offset);
      const knAt = offset + Math.ceil((cgSize + 8 * (level + 1)) / 8) * 8;
      const cg: SimCgroup = { path: e.path, id: BigInt(i + 1), level, weight: e.weight, parent, address };
      v.setBigUint64(offset + k.offsetOf('cgroup', 'self.cgroup'), address, true);
      v.setInt32(offset + k.offsetOf('cgroup', 'level'), level, true);
      v.setBigUint64(offset + k.offsetOf('cgroup', 'kn'), base + BigInt(knAt), true);
      v.setBigUint64(knAt + k.offsetOf('kernfs_node', 'id'), cg.id, true);
      // ancestors[0..level]: the root first, the cgroup itself last.
      for (let a: SimCgroup | undefined = cg; a; a = a.parent) v.setBigUint64(offset + ancestorsAt + 8 * a.level, a.address, true);
      this.byPath.set(e.path, cg);
      this.byAddress.set(address, cg);
      made.push(cg);
      offset += stride(e);
    });
    this.root = made[0];
    const children = (c: SimCgroup) => made.filter((x) => x.parent === c);
    const pre = (c: SimCgroup): SimCgroup[] => [c, ...children(c).flatMap(pre)];
    this.all = pre(this.root);
  }

  at(address: bigint): SimCgroup | undefined { return this.byAddress.get(address); }
  path(path: string): SimCgroup | undefined { return this.byPath.get(path); }
  byId(id: bigint): SimCgroup | undefined { return this.all.find((c) => c.id === id); }

  /** bpf_cgroup_ancestor: the ancestor at `level` (the cgroup itself at its own level), else none. */
  ancestor(cg: SimCgroup, level: number): SimCgroup | undefined {
    let a: SimCgroup | undefined = cg;
    while (a && a.level > level) a = a.parent;
    return a && a.level === level ? a : undefined;
  }
}
