// One hostile-input case in a process of its own, so the test can bound its time and peak memory:
// `node hostile-child.js OP FILE...` runs OP on the files and prints one JSON line
// { ok, message, output, maxRssKb }. A case that exhausts memory or crashes prints nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectCheckpoint, formatInspect } from '../../src/cli/inspect.js';
import { readCheckpoint } from '../../src/io/checkpoint/index.js';
import { gather } from '../../src/io/checkpoint/storage.js';

async function run(op: string, files: string[]): Promise<string> {
  switch (op) {
    case 'inspect':
      return formatInspect(inspectCheckpoint(files[0]!));
    case 'read': {
      const c = readCheckpoint(files[0]!);
      return `${c.tensors.size} tensors`;
    }
    case 'convert': {
      const { convertPublic } = await import('../../src/models/convert.js');
      const { tinyWidths } = await import('./hostile-widths.js');
      const out = path.join(files[2]!, 'model');
      convertPublic('sinsr', files[0]!, files[1]!, out, tinyWidths());
      return 'converted';
    }
    case 'image': {
      const { readImage } = await import('../../src/io/image/index.js');
      const img = await readImage(files[0]!);
      img.data.dispose();
      return `${img.width}x${img.height}`;
    }
    case 'gather2g': {
      // A float32 storage just over 2 GiB (zero pages: allocated, never touched) and a strided
      // view of its last elements, as torch.load reads them.
      const n = 2 ** 29 + 8;
      const src = new Uint8Array(n * 4);
      src[(n - 1) * 4] = 7;
      const out = gather(src, 4, n, n - 7, [4], [2]);
      return `${out.length} bytes, last ${out[12]}`;
    }
    case 'probe-empty': {
      const torch = await import('../../src/engine/index.js');
      const t = torch.empty([Number(files[0])]);
      const vm = /VmSize:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]!;
      t.dispose();
      return vm;
    }
    case 'toBytes':
    case 'toArray': {
      const torch = await import('../../src/engine/index.js');
      const t = torch.empty([Number(files[0])]);
      const b = op === 'toBytes' ? t.toBytes() : t.toArray();
      return `${b.byteLength}`;
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

const [op, ...files] = process.argv.slice(2);
// The test runner also loads this file, with no arguments: then it does nothing.
if (op === undefined) process.exit(0);
let result: { ok: boolean; message: string; output: string };
try {
  result = { ok: true, message: '', output: await run(op!, files) };
} catch (e) {
  result = { ok: false, message: e instanceof Error ? e.message : String(e), output: '' };
}
process.stdout.write(`${JSON.stringify({ ...result, maxRssKb: process.resourceUsage().maxRSS })}\n`);
