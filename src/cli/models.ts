// vpdsr models [--json]: the models --model NAME can name — built in, and installed in the
// models folder (VPDSR_MODELS, default under the user's data folder) by `vpdsr convert --name`.
import type { Command } from 'commander';
import { listModels, modelsDir } from '../api/models-dir.js';

const size = (b?: number): string => (b === undefined ? '-' : b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('list the models --model NAME finds: built in, and installed in the models folder')
    .option('--json', 'one JSON object { dir, models: [{ name, kind, source, path, bytes, provenance, error }] }')
    .action((o: { json?: boolean }) => {
      const dir = modelsDir();
      const models = listModels(dir);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ dir, models })}\n`);
        return;
      }
      process.stdout.write(`models folder: ${dir} (set VPDSR_MODELS to change it)\n`);
      const rows = models.map((m) => [m.name, m.kind, m.source, size(m.bytes), m.error ? `unreadable: ${m.error}` : m.provenance]);
      const head = ['NAME', 'KIND', 'SOURCE', 'SIZE', 'PROVENANCE'];
      const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) process.stdout.write(`${r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]!) : c)).join('  ')}\n`);
    });
}
