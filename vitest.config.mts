import { defineConfig, type Plugin } from "vitest/config";

// Mirror esbuild's `--loader:.css=text` (package.json "build"): a .css import is
// its source text. Vite gives a file's text for the `?raw` query; vitest blanks
// every stylesheet it is not told to process, hence `css.include` below.
const cssAsText: Plugin = {
  name: "css-as-text",
  enforce: "pre",
  async resolveId(source, importer) {
    if (!source.endsWith(".css") || !importer) return null;
    const resolved = await this.resolve(source, importer, { skipSelf: true });
    return resolved && `${resolved.id}?raw`;
  },
};

export default defineConfig({
  plugins: [cssAsText],
  test: {
    environment: "jsdom",
    include: ["js/**/*.test.ts"],
    css: { include: [/\.css\?raw$/] },
  },
});
