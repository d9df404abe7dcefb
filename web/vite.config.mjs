// @ts-check
// The console's build: web/ → dist/console (served by the API at /). Preact's JSX through Vite's own transform (oxc):
// no Babel, no plugin with an install script. Hashed file names under assets/ let the server cache them for a year.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * `virtual:ai-settings-schema`: the AiSettings schema of the client's OpenAPI document (each setting's type, range,
 * default and meaning), so the settings form is made from the same document as the API and cannot drift from it.
 */
function aiSettingsSchema() {
  const id = 'virtual:ai-settings-schema';
  return {
    name: 'argus-ai-settings-schema',
    /** @param {string} source */
    resolveId(source) {
      return source === id ? `\0${id}` : null;
    },
    /** @param {string} loaded */
    load(loaded) {
      if (loaded !== `\0${id}`) return null;
      const doc = JSON.parse(readFileSync(fileURLToPath(new URL('../packages/client/openapi.json', import.meta.url)), 'utf8'));
      return `export default ${JSON.stringify(doc.components.schemas.AiSettings)};`;
    },
  };
}

export default defineConfig({
  root: here,
  plugins: [aiSettingsSchema()],
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    // The polyfill would be an inline script, which the console's CSP (script-src 'self') refuses; every browser the
    // console supports has modulepreload.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
