// The import direction of docs/architecture.md: every file of src/, interp/, jit/ and wasm/ sits in a
// layer, and no file imports a file of a higher layer; no files import each other in a cycle,
// nor do modules (a folder, or a file directly in src/). Imports are read from the sources as
// text (`import type` and `export ... from` included), so the rule holds for types too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PROJECT_ROOT } from './suite.js';

/** The layers, lowest first. A file's layer is that of its longest matching rule (a folder or a file). */
const LAYERS: readonly { readonly name: string; readonly rules: readonly string[] }[] = [
  { name: 'leaves', rules: ['src/errors.ts', 'src/int64.ts', 'src/uapi.ts', 'src/helper-names.ts', 'src/text.ts', 'src/addresses.ts'] },
  // maps/types.ts is the map definition (MapSpec) the object spec is written in.
  { name: 'ISA and parsers', rules: ['src/isa/', 'src/asm/', 'src/elf/', 'src/btf/', 'src/loader/', 'src/maps/types.ts', 'src/pcap.ts'] },
  { name: 'machine model', rules: ['src/memory.ts', 'src/arena/', 'src/events.ts', 'src/runtime.ts'] },
  {
    name: 'simulated kernel',
    rules: ['src/maps/', 'src/streams/', 'src/net/', 'src/kernel/', 'src/helpers/', 'src/kfunc/', 'src/progtypes/', 'src/verifier.ts'],
  },
  { name: 'engines', rules: ['src/lower.ts', 'src/engine.ts', 'src/shell.ts', 'src/engines.ts', 'src/codegen/', 'interp/', 'jit/', 'wasm/'] },
  {
    name: 'instantiation and API',
    rules: ['src/instantiate.ts', 'src/program.ts', 'src/globals.ts', 'src/object.ts', 'src/conformance.ts', 'src/runs.ts',
      'src/report.ts', 'src/record.ts', 'src/index.ts', 'src/test-run-io.ts', 'src/fuzz/', 'src/racelab/', 'src/sched/'],
  },
  { name: 'CLI', rules: ['src/cli.ts'] },
];

const ROOTS = ['src', 'interp', 'jit', 'wasm'];

function sources(dir: string): string[] {
  return readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The project files a source imports (relative specifiers only), as repo-relative .ts paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');
  const found = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?'(\.{1,2}\/[^']+)'/gm)) {
    found.add(relative(PROJECT_ROOT, resolve(PROJECT_ROOT, dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return [...found];
}

function layerOf(file: string): number | undefined {
  let best: { layer: number; length: number } | undefined;
  LAYERS.forEach((l, layer) => {
    for (const rule of l.rules) {
      const hit = rule.endsWith('/') ? file.startsWith(rule) : file === rule;
      if (hit && (!best || rule.length > best.length)) best = { layer, length: rule.length };
    }
  });
  return best?.layer;
}

/** A file's module: its folder below src/ (or interp/, jit/, wasm/), or the file itself directly in src/. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts[0] !== 'src' ? parts[0] : parts.length > 2 ? `src/${parts[1]}` : file;
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('layers: the import direction of docs/architecture.md', () => {
  const files = ROOTS.flatMap(sources).sort();
  const edges = files.flatMap((from) => importsOf(from).map((to) => ({ from, to })));

  it('reads the sources and their imports', () => {
    assert.ok(files.includes('src/object.ts') && files.includes('interp/interpreter.ts'), 'run from dist/test/');
    const has = (from: string, to: string) => edges.some((e) => e.from === from && e.to === to);
    assert.ok(has('src/index.ts', 'src/object.ts'), 'export ... from');
    assert.ok(has('src/loader/spec.ts', 'src/maps/types.ts'), 'import type');
    assert.ok(has('src/maps/map.ts', 'src/uapi.ts'), 'an import over several lines');
    assert.ok(has('interp/interpreter.ts', 'src/runtime.ts'), 'an import out of the folder');
    const known = new Set(files);
    assert.deepEqual(edges.filter((e) => !known.has(e.to)), [], 'imports of files that do not exist');
  });

  it('every file has a layer', () => {
    assert.deepEqual(files.filter((f) => layerOf(f) === undefined), [], 'add these to LAYERS');
  });

  it('no file imports a file of a higher layer', () => {
    const upward = edges.filter((e) => layerOf(e.to)! > layerOf(e.from)!)
      .map((e) => `${e.from} (${LAYERS[layerOf(e.from)!].name}) → ${e.to} (${LAYERS[layerOf(e.to)!].name})`);
    assert.deepEqual(upward, []);
  });

  it('no files import each other in a cycle', () => {
    const graph = new Map(files.map((f) => [f, new Set(importsOf(f))]));
    assert.deepEqual(cycles(graph), []);
  });

  it('no modules (folders, and the files directly in src/) import each other in a cycle', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [moduleOf(from), moduleOf(to)];
      if (!graph.has(a)) graph.set(a, new Set());
      if (a !== b) graph.get(a)!.add(b);
    }
    assert.deepEqual(cycles(graph), []);
  });

  it('the engines do not import each other (style-anchors.md §5: one interface, several implementations)', () => {
    assert.deepEqual(edges.filter((e) => moduleOf(e.from) !== moduleOf(e.to) && ['interp', 'jit', 'wasm'].includes(moduleOf(e.from))
      && ['interp', 'jit', 'wasm'].includes(moduleOf(e.to))), []);
  });
});
