// A Node resolve hook (registered with module.register by sdk_flows.mjs) for @inferencesh/sdk.
//
// Why: the SDK ships ESM ("type": "module") whose relative imports lack the `.js` extension
// (`import { HttpClient } from './http/client'`). Bundlers accept that; Node's ESM loader does not,
// so plain `import('@inferencesh/sdk')` fails with ERR_MODULE_NOT_FOUND. This hook retries such an
// import inside the SDK with `.js`, then `/index.js`. The SDK itself runs unchanged.

const SDK_PATH = "/node_modules/@inferencesh/sdk/";

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (!relative || !context.parentURL?.includes(SDK_PATH)) throw error;
    for (const suffix of [".js", "/index.js"]) {
      try {
        return await nextResolve(specifier + suffix, context);
      } catch {
        // try the next form
      }
    }
    throw error;
  }
}
