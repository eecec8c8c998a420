import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vite';

// What workbox-build's injectManifest does, in a few lines: list the app
// build (run first) and put it where the worker says `self.__WB_MANIFEST`.
function listFiles(dir, base = dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  });
}

function injectManifest() {
  return {
    name: 'inject-manifest',
    transform(code) {
      if (!code.includes('self.__WB_MANIFEST')) return null;
      const entries = listFiles('dist')
        .filter((f) => !f.endsWith('.map') && f !== 'sw.js')
        .map((f) => ({
          url: `/${f.split(path.sep).join('/')}`,
          revision: f.startsWith('assets/')
            ? null
            : createHash('md5')
                .update(readFileSync(path.join('dist', f)))
                .digest('hex'),
        }));
      return code.replace('self.__WB_MANIFEST', JSON.stringify(entries));
    },
  };
}

export default defineConfig({
  publicDir: false,
  plugins: [injectManifest()],
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    lib: { entry: 'src/sw.js', formats: ['iife'], name: 'appSw', fileName: () => 'sw.js' },
  },
});
