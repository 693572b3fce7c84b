// Bundles the compiled CLI (dist/src/cli/main.js) and its dependencies into one ES module,
// dist/zooraft.mjs, which `npx zooraft` and `npm start` run. One file loads in about two
// thirds of the time of ~70 separate modules, and start-up time is one of the things users
// compare us on (bench/README.md).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli/main.js'],
  outfile: 'dist/zooraft.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // pino and yargs are CommonJS and require() Node's built-ins, which an ES module lacks.
  banner: { js: "import { createRequire as zooraftCreateRequire } from 'node:module'; const require = zooraftCreateRequire(import.meta.url);" },
});
