// The worker thread of a worker-backed Model: loads the model once (workerData), then runs image
// jobs one at a time (execute.ts), posting tile progress and warnings. An abort reaches it two
// ways: a shared flag read between tiles (the pipeline's tile loop is synchronous, so no message
// can arrive then) and an 'abort' message seen while it awaits decoding or writing.
import { parentPort, workerData } from 'node:worker_threads';
import { executeJob } from './execute.js';
import { loadModelHere } from './model.js';
import { serializeError, type FromWorker, type ToWorker, type WorkerSpec } from './protocol.js';

if (!parentPort) throw new Error('src/api/worker.ts runs only as a worker thread');
const port = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);
const controllers = new Map<number, AbortController>();

function start(): void {
  let model: ReturnType<typeof loadModelHere>;
  try {
    const spec = workerData as WorkerSpec;
    model = loadModelHere({ ...spec, onWarning: (message) => post({ type: 'warning', message }) });
  } catch (e) {
    post({ type: 'load-error', error: serializeError(e) });
    return;
  }
  post({ type: 'loaded', name: model.name, kind: model.kind, device: model.device, dtype: model.dtype });
  // One job at a time, in arrival order.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    if (m.type === 'abort') { controllers.get(m.id)?.abort(); return; }
    const ac = new AbortController();
    controllers.set(m.id, ac);
    const flag = new Int32Array(m.flag);
    const check = (): void => { if (Atomics.load(flag, 0) !== 0) ac.abort(); };
    queue = queue.then(async () => {
      try {
        check();
        const result = await executeJob(model, m.job, {
          signal: ac.signal,
          // Called between tiles, synchronously: the only moment the flag can stop the loop.
          onTile: (done, total) => { check(); post({ type: 'tile', id: m.id, done, total }); },
          onWarning: (message) => post({ type: 'warning', id: m.id, message }),
        });
        const transfer = result.bytes ? [result.bytes.buffer as ArrayBuffer] : [];
        port.postMessage({ type: 'done', id: m.id, result } satisfies FromWorker, transfer);
      } catch (e) {
        post({ type: 'error', id: m.id, error: serializeError(e) });
      } finally {
        controllers.delete(m.id);
      }
    });
  });
}

start();
