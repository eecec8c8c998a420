import { fileURLToPath } from 'node:url';
import { build, defineConfig, type Plugin } from 'vite';

// `vite build` writes dist/public/: the demo (index.html + assets/), the page
// library as one stable-named ES module (tile-accelerator.js), and, from a
// second lib-mode pass started when the first ends, the service worker as
// ONE self-contained classic script at the root (tile-sw.js): a worker's
// scope comes from its path, and a classic script has no chunks to lose.
const root = fileURLToPath(new URL('.', import.meta.url));
const outDir = `${root}dist/public`;

function serviceWorkerBuild(): Plugin {
  return {
    name: 'tile-sw-build',
    apply: 'build',
    async closeBundle() {
      await build({
        configFile: false,
        root,
        logLevel: 'warn',
        publicDir: false,
        define: { 'process.env.NODE_ENV': JSON.stringify('production') },
        build: {
          outDir,
          emptyOutDir: false,
          target: 'es2022',
          sourcemap: true,
          minify: true,
          lib: {
            entry: `${root}src/sw/tile-sw.ts`,
            formats: ['iife'],
            name: 'tileAcceleratorSw',
            fileName: () => 'tile-sw.js',
          },
          rolldownOptions: { output: { codeSplitting: false } },
        },
      });
    },
  };
}

export default defineConfig({
  root: `${root}demo`,
  base: '/',
  publicDir: false,
  plugins: [serviceWorkerBuild()],
  worker: { format: 'es' },
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: {
        index: `${root}demo/index.html`,
        'tile-accelerator': `${root}src/client/index.ts`,
      },
      // An HTML app build drops entry exports by default; the library needs them.
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) =>
          chunk.name === 'tile-accelerator' ? 'tile-accelerator.js' : 'assets/[name]-[hash].js',
      },
    },
  },
});
