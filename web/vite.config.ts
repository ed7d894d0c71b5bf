import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web app's build: web/ → dist/web, served by the API at /app (src/modules/api/web-app.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // Nothing inlined as data: URLs; one stylesheet and one script, all from this server.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
