import { defineConfig } from 'vite';

// The app is served by the plinth binary at /dashboard/; `make dashboard`
// builds it into dist/, which is committed and embedded with go:embed.
export default defineConfig({
  base: '/dashboard/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline module-preload polyfill: the CSP allows no inline script.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: { proxy: { '/admin': 'http://127.0.0.1:8080' } },
});
