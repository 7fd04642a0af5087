import { defineConfig } from "vite";

// Fixed output names: `credence serve` embeds exactly these three files (src/service/web.rs).
export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // One script and one style sheet; no source maps in the binary.
    sourcemap: false,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        entryFileNames: "assets/app.js",
        chunkFileNames: "assets/app-[name].js",
        assetFileNames: "assets/app.[ext]",
        codeSplitting: false,
      },
    },
  },
  server: {
    // `npm run dev` forwards calls to a server started by the README's first command.
    proxy: { "/credence.v1.": "http://127.0.0.1:50051", "/grpc.": "http://127.0.0.1:50051" },
  },
});
