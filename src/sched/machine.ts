/**
 * The simulated machine's shape (sched-ext.md §7.2): CPUs grouped into SMT cores, cores into
 * last-level caches, caches into NUMA nodes, and the cid tables the kernel builds from that at
 * every root enable (§5.1). Immutable once made.
 */

export interface TopologyOptions {
  /** Possible (= online) CPUs. */
  readonly cpus: number;
  /** NUMA nodes (default 1). */
  readonly nodes?: number;
  /** Last-level caches per node (default 1). */
  readonly llcsPerNode?: number;
  /** Hardware threads per core (default 1: no SMT). */
  readonly threadsPerCore?: number;
  /**
   * How Linux numbers the threads: 'adjacent' (siblings are consecutive CPUs) or 'x86' (the
   * first thread of every core first, then the second: siblings are cpu and cpu + cores),
   * the default.
   */
  readonly numbering?: 'adjacent' | 'x86';
}

/** One cid's place in the topology (struct scx_cid_topo, six s32: §5.1). */
export interface CidTopo {
  readonly coreCid: number;
  readonly coreIdx: number;
  readonly llcCid: number;
  readonly llcIdx: number;
  readonly nodeCid: number;
  readonly nodeIdx: number;
}

export class TopologyError extends Error {}

export class Machine {
  readonly nrCpus: number;
  readonly nrNodes: number;
  /** Per CPU: its core, LLC and node numbers. */
  readonly coreOf: readonly number[];
  readonly llcOf: readonly number[];
  readonly nodeOf: readonly number[];
  /** CPUs of each core, LLC and node, ascending. */
  readonly coreCpus: readonly (readonly number[])[];
  readonly llcCpus: readonly (readonly number[])[];
  readonly nodeCpus: readonly (readonly number[])[];
  /** Whether some core has two or more threads (sched_smt_active). */
  readonly smt: boolean;
  /** The cid tables (§5.1): cid → cpu, cpu → cid, and each cid's topology. */
  readonly cidToCpu: readonly number[];
  readonly cpuToCid: readonly number[];
  readonly cidTopo: readonly CidTopo[];

  constructor(options: TopologyOptions) {
    const cpus = options.cpus, nodes = options.nodes ?? 1, llcs = options.llcsPerNode ?? 1, threads = options.threadsPerCore ?? 1;
    for (const [name, v, max] of [['cpus', cpus, 4096], ['nodes', nodes, 64], ['llcsPerNode', llcs, 256], ['threadsPerCore', threads, 8]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > max) throw new TopologyError(`${name} must be an integer in 1..${max} (got ${v})`);
    }
    if (cpus % (nodes * llcs * threads) !== 0) {
      throw new TopologyError(`${cpus} CPUs do not divide into ${nodes} node(s) × ${llcs} LLC(s) × cores of ${threads} thread(s)`);
    }
    this.nrCpus = cpus;
    this.nrNodes = nodes;
    const cores = cpus / threads;
    const coresPerLlc = cores / (nodes * llcs);
    const coreOf: number[] = [], llcOf: number[] = [], nodeOf: number[] = [];
    for (let cpu = 0; cpu < cpus; cpu++) {
      const core = (options.numbering ?? 'x86') === 'x86' ? cpu % cores : Math.floor(cpu / threads);
      coreOf[cpu] = core;
      llcOf[cpu] = Math.floor(core / coresPerLlc);
      nodeOf[cpu] = Math.floor(core / (coresPerLlc * llcs));
    }
    const group = (of: number[], n: number) => Array.from({ length: n }, (_, g) => of.flatMap((x, cpu) => (x === g ? [cpu] : [])));
    this.coreOf = coreOf; this.llcOf = llcOf; this.nodeOf = nodeOf;
    this.coreCpus = group(coreOf, cores);
    this.llcCpus = group(llcOf, nodes * llcs);
    this.nodeCpus = group(nodeOf, nodes);
    this.smt = threads > 1;
    const { cidToCpu, cpuToCid, topo } = this.buildCids();
    this.cidToCpu = cidToCpu; this.cpuToCid = cpuToCid; this.cidTopo = topo;
  }

  /**
   * scx_cid_init (§5.1): walk nodes, then LLCs within a node, then cores within an LLC, each
   * time from the lowest unvisited CPU; a core's CPUs take the next cids in ascending order.
   * A unit's topology entry is its first cid and its running index.
   */
  private buildCids(): { cidToCpu: number[]; cpuToCid: number[]; topo: CidTopo[] } {
    const cidToCpu: number[] = [], cpuToCid = new Array<number>(this.nrCpus).fill(-1), topo: CidTopo[] = [];
    const visited = new Set<number>();
    let coreIdx = 0, llcIdx = 0, nodeIdx = 0;
    for (let first = 0; first < this.nrCpus; first++) {
      if (visited.has(first)) continue;
      const node = this.nodeCpus[this.nodeOf[first]].filter((c) => !visited.has(c));
      const nodeCid = cidToCpu.length;
      for (const lc of node) {
        if (visited.has(lc)) continue;
        const llc = node.filter((c) => !visited.has(c) && this.llcOf[c] === this.llcOf[lc]);
        const llcCid = cidToCpu.length;
        for (const cc of llc) {
          if (visited.has(cc)) continue;
          const core = llc.filter((c) => !visited.has(c) && this.coreOf[c] === this.coreOf[cc]);
          const coreCid = cidToCpu.length;
          for (const cpu of core) {
            visited.add(cpu);
            cpuToCid[cpu] = cidToCpu.length;
            topo[cidToCpu.length] = { coreCid, coreIdx, llcCid, llcIdx, nodeCid, nodeIdx };
            cidToCpu.push(cpu);
          }
          coreIdx++;
        }
        llcIdx++;
      }
      nodeIdx++;
    }
    return { cidToCpu, cpuToCid, topo };
  }

  /** CPUs sharing `cpu`'s core, LLC or node. */
  siblings(cpu: number): readonly number[] { return this.coreCpus[this.coreOf[cpu]]; }
  llcSpan(cpu: number): readonly number[] { return this.llcCpus[this.llcOf[cpu]]; }
  nodeSpan(cpu: number): readonly number[] { return this.nodeCpus[this.nodeOf[cpu]]; }

  describe(): string {
    const threads = this.coreCpus[0].length;
    return `${this.nrCpus} CPUs: ${this.nrNodes} node(s), ${this.llcCpus.length / this.nrNodes} LLC(s) per node, `
      + `${this.coreCpus.length} core(s) of ${threads} thread(s)`;
  }
}
