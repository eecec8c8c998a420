import { defineConfig } from 'vite';

// The codec worker splits into chunks (the .wasm loader is imported lazily): module workers.
export default defineConfig({ worker: { format: 'es' } });
