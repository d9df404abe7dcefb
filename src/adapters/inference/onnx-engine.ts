/**
 * InferenceEngine over onnxruntime-node in one worker thread (see inference-worker.ts). Inputs are transferred,
 * not copied, and handed back with the outputs so callers can reuse them. Output buffers are reused too, once a
 * caller releases them: a buffer made anew in the inference thread arrives on the event loop as new external
 * memory, and V8 runs a full collection there for every few tens of megabytes of it — YOLOX's 1.2 MB output cost
 * the event loop ~1.9 ms of garbage collection per run (600 runs: 34 major collections, 1,131 ms), while buffers
 * that go back and forth, as inputs do, cost nothing of the kind. Every run is timed into a per-model histogram.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InferenceEngine, InferenceOutput, InputTensor, UsableModel } from '../../app/ports.js';
import type { OutputTensor } from '../../domain/detection/detection.js';
import type { RunReply, RunTask, WorkerOptions } from './inference-worker.js';

/** Engine options. */
export interface OnnxEngineOptions extends WorkerOptions {
  /** Inference threads, each with its own session of every model it runs. */
  readonly threads: number;
  readonly metrics?: Registry;
  /** Set in worker processes: inference time is also counted per worker. */
  readonly workerName?: string;
}

/**
 * The compiled worker script. From TypeScript sources (tests) the worker still runs the compiled build in dist/,
 * which `npm test` builds first: worker threads cannot load .ts files.
 */
export function workerScript(): string {
  const here = fileURLToPath(new URL('./inference-worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(/([/\\])src([/\\])adapters([/\\])/, '$1dist$2adapters$3');
  if (existsSync(built)) return built;
  throw new Error(`inference worker not found at ${here} or ${built}: run \`npm run build\``);
}

/** Runs ONNX models in a dedicated thread. */
export class OnnxEngine implements InferenceEngine {
  private readonly pool: Piscina;
  private readonly latency: Histogram<'model'> | null;
  private readonly perWorker: { counter: Counter<'worker' | 'model'>; worker: string } | null;
  private readonly threads: number;
  /** Models with a session in at least one inference thread (sessions load on first use and stay). */
  private readonly loaded = new Set<string>();
  /** Released output buffers per model, lent to its next runs. */
  private readonly spare = new Map<string, ArrayBuffer[]>();
  /** How many outputs each model gave (known after its first run): that many buffers are lent per run. */
  private readonly outputCount = new Map<string, number>();

  constructor(options: OnnxEngineOptions) {
    const workerData: WorkerOptions = { intraOpThreads: options.intraOpThreads, interOpThreads: options.interOpThreads, executionProvider: options.executionProvider };
    // Small models scale poorly across intra-op threads (YOLOX-nano here: 29.5 ms on one thread, 22-24 ms on two
    // while burning both cores), so throughput comes from a few single-threaded streams, one session each.
    const threads = Math.max(1, options.threads);
    this.threads = threads;
    this.pool = new Piscina({ filename: workerScript(), minThreads: threads, maxThreads: threads, idleTimeout: Infinity, workerData });
    this.latency = options.metrics
      ? new Histogram({
          name: 'argus_inference_duration_seconds',
          help: 'Time inside session.run per model',
          labelNames: ['model'],
          buckets: [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
          registers: [options.metrics],
        })
      : null;
    // A worker process also counts its inference time under its own name, for the per-worker view of a fleet.
    this.perWorker =
      options.metrics && options.workerName
        ? {
            worker: options.workerName,
            counter: new Counter({ name: 'argus_worker_inference_seconds_total', help: 'Time inside session.run, per worker and model', labelNames: ['worker', 'model'], registers: [options.metrics] }),
          }
        : null;
  }

  async run(model: UsableModel, input: InputTensor): Promise<InferenceOutput> {
    const id = model.manifest.id;
    const free = this.spare.get(id) ?? [];
    // As many spare buffers as the model has outputs, no more: every buffer moved costs a little on both sides.
    const lent = free.splice(0, this.outputCount.get(id) ?? 0);
    const task: RunTask = { modelId: id, path: model.path, inputName: model.manifest.input.name, input: input.data, dims: input.dims, argmax: input.argmax, spare: lent };
    // Lent buffers go with the task; if it fails they are lost, which costs only their reuse.
    const reply = (await this.pool.run(task, { transferList: [input.data.buffer as ArrayBuffer, ...lent] })) as RunReply;
    this.loaded.add(id);
    this.outputCount.set(id, reply.outputs.length);
    this.keep(id, reply.unused);
    this.latency?.observe({ model: model.manifest.id }, reply.runMs / 1000);
    this.perWorker?.counter.inc({ worker: this.perWorker.worker, model: model.manifest.id }, reply.runMs / 1000);
    const outputs = new Map<string, OutputTensor>(reply.outputs.map((o) => [o.name, { data: o.data, dims: o.dims }]));
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.keep(
        id,
        reply.outputs.map((o) => o.data.buffer as ArrayBuffer),
      );
    };
    return { outputs, runMs: reply.runMs, input: reply.input, release };
  }

  /** Keeps buffers for the model's later runs: enough for a run in flight on every thread and two waiting. */
  private keep(id: string, buffers: readonly ArrayBuffer[]): void {
    if (buffers.length === 0) return;
    const free = this.spare.get(id) ?? [];
    const most = (this.outputCount.get(id) ?? 1) * (this.threads + 2);
    for (const b of buffers) if (b.byteLength > 0 && free.length < most) free.push(b);
    this.spare.set(id, free);
  }

  async warm(model: UsableModel): Promise<void> {
    const { width, height } = model.manifest.input;
    // One run per thread at once: idle threads take one task each, so every thread loads its session.
    await Promise.all(Array.from({ length: this.threads }, () => this.run(model, { data: new Float32Array(3 * width * height), dims: [1, 3, height, width] })));
  }

  /** Ids of the models loaded so far (by warm-up or a first request); the others cost no memory yet. */
  loadedModels(): ReadonlySet<string> {
    return this.loaded;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
