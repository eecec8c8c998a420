// The product/test boundary, checked: nothing the package ships (server/, src/
// outside *.test.ts) may import e2e/, bench/ or test/, so test support stays
// out of the package without a hand-kept exclude list in the build configs.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Every file the package may ship from: server/ and src/, tests aside (the AssemblyScript too). */
function productFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = `${dir}/${name}`;
      if (name === 'node_modules' || name === 'build') continue;
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (/\.([cm]?[jt]s)$/.test(name) && !/\.test\.[cm]?[jt]s$/.test(name)) out.push(rel);
    }
  };
  walk('server');
  walk('src');
  return out.sort();
}

/** The module specifiers of static, side-effect and dynamic imports, re-exports and `new URL(…, import.meta.url)`. */
function importSpecifiers(source: string): string[] {
  const re =
    /(?:\b(?:import|export)\s[^'";]*?\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)(['"])([^'"\n]+)\1/g;
  return [...source.matchAll(re)].map((m) => m[2]!);
}

/** The repository path a relative specifier names (`.js` finds its `.ts` source), or undefined. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  const p = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const c of [p, p.replace(/\.js$/, '.ts'), `${p}.ts`, `${p}/index.ts`]) {
    if (existsSync(path.join(ROOT, c)) && statSync(path.join(ROOT, c)).isFile()) return c;
  }
  return undefined;
}

describe('product imports', () => {
  it('finds every import form it is meant to police', () => {
    const sample = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './e.js';",
      "const m = await import('./f.js');",
      "new Worker(new URL('./g.ts', import.meta.url));",
      'import {\n  h,\n  i,\n} from "./h.js";',
    ].join('\n');
    expect(importSpecifiers(sample)).toEqual([
      './a.js',
      '../b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
      './g.ts',
      './h.js',
    ]);
  });

  it('resolves a .js specifier to its .ts source', () => {
    expect(resolveSpecifier('server/index.ts', './createTileServer.js')).toBe('server/createTileServer.ts');
    expect(resolveSpecifier('server/index.ts', './nowhere.js')).toBeUndefined();
  });

  it('nothing under server/ or src/ imports e2e/, bench/, test/ or a test file', () => {
    const files = productFiles();
    // A walk that found nothing would pass vacuously.
    expect(files.length).toBeGreaterThan(100);
    const crossings: string[] = [];
    let edges = 0;
    for (const file of files) {
      for (const spec of importSpecifiers(readFileSync(path.join(ROOT, file), 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
        edges++;
        if (
          /^(e2e|bench|test)\//.test(target) ||
          /\.test\.[cm]?[jt]s$/.test(target) ||
          target.startsWith('..')
        )
          crossings.push(`${file} -> ${spec}`);
      }
    }
    expect(edges).toBeGreaterThan(300);
    expect(crossings).toEqual([]);
  });

  it('product code has no import cycle', () => {
    const files = productFiles();
    const deps = new Map<string, string[]>();
    for (const file of files) {
      const out: string[] = [];
      for (const spec of importSpecifiers(readFileSync(path.join(ROOT, file), 'utf8'))) {
        const target = spec.startsWith('.') ? resolveSpecifier(file, spec) : undefined;
        if (target !== undefined && target !== file) out.push(target);
      }
      deps.set(file, out);
    }
    // Depth-first: a module met again while still on the path closes a cycle.
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path_: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      path_.push(f);
      for (const d of deps.get(f) ?? []) {
        if (state.get(d) === 'open') cycles.push([...path_.slice(path_.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      path_.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('the package build excludes only tests (no list of test-support files)', () => {
    const configs = readdirSync(ROOT).filter((f) => /^tsconfig\.build\.\w+\.json$/.test(f));
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const name of configs) {
      const config = JSON.parse(readFileSync(path.join(ROOT, name), 'utf8')) as {
        include?: string[];
        exclude?: string[];
      };
      if (config.exclude) expect(config.exclude, name).toEqual(['**/*.test.ts']);
      for (const pattern of config.include ?? []) expect(pattern, name).toMatch(/^(server|src)\//);
    }
  });

  it('test support lives in test/support, not in a product folder', () => {
    const misplaced = productFiles().filter((f) => /(^|\/)(testing|reference)\//.test(f));
    expect(misplaced).toEqual([]);
  });
});
