// Each file in test/core/scenarios is a state-machine scenario: commands and the output they
// must produce. ZOORAFT_REWRITE=1 rewrites the files with the actual output (review the diff).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from './scenario-harness.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/core/scenarios');

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`scenario ${file}`, (t) => {
    const full = path.join(dir, file);
    const text = fs.readFileSync(full, 'utf8');
    const actual = runScenario(text);
    if (process.env['ZOORAFT_REWRITE'] === '1') fs.writeFileSync(full, actual);
    t.is(actual, text);
  });
}
