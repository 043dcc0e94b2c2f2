import { defineConfig } from "vite";

// Served by tarnd at /studio/. Content-hashed files go under assets/, which tarnd caches for a
// year; index.html is revalidated on every load. No inline scripts (tarnd's CSP forbids them).
export default defineConfig({
  base: "/studio/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    target: "es2022",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
