/**
 * The inference thread. onnxruntime-node's `session.run` runs on the calling thread, so it lives here, off the
 * event loop: the API thread keeps serving requests while a model runs. Sessions are created on first use behind
 * a promise (the lock), one per model, and kept for the life of the thread.
 */
import { readFile } from 'node:fs/promises';
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { bestClasses } from '../../domain/ocr/ctc.js';
import { dropInitializerInputs } from '../models/onnx-graph-inputs.js';

/** Thread options fixed when the pool starts. */
export interface WorkerOptions {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** onnxruntime execution provider; absent: cpu. */
  readonly executionProvider?: 'cpu' | 'cuda' | undefined;
}

/** A request to the thread. `input` travels by transfer and comes back in the reply for reuse. */
export interface RunTask {
  readonly modelId: string;
  readonly path: string;
  readonly inputName?: string | undefined;
  readonly input: Float32Array;
  readonly dims: readonly number[];
  /** Reduce each output's last axis to `[best index, its score]` here (see InputTensor.argmax). */
  readonly argmax?: boolean | undefined;
  /** Buffers of earlier outputs, handed back by the caller: filled in order with this run's outputs when they fit. */
  readonly spare?: ArrayBuffer[] | undefined;
}

/** The reply: output tensors by name in model order, the run time, the input buffer, and spare buffers not used. */
export interface RunReply {
  readonly outputs: { name: string; data: Float32Array; dims: number[] }[];
  readonly runMs: number;
  readonly input: Float32Array;
  readonly unused: ArrayBuffer[];
}

const options = workerData as WorkerOptions;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

/**
 * The model to load: the file's bytes with its weights taken off the graph's input list when an old exporter put
 * them there (PicoDet, NanoDet, UltraFace: 20-60% faster, same outputs; see onnx-graph-inputs.ts), else the path
 * itself (which also keeps external-data files working). Bytes that do not parse go to onnxruntime as a path too,
 * so its own error message names the problem.
 */
async function modelSource(file: string): Promise<string | Uint8Array> {
  try {
    const fixed = dropInitializerInputs(await readFile(file));
    return fixed.removed > 0 ? fixed.bytes : file;
  } catch {
    return file;
  }
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: options.intraOpThreads,
  interOpNumThreads: options.interOpThreads,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  // CUDA first; operators it lacks fall back to the CPU provider inside the same session.
  executionProviders: options.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
  // Warnings about how a third-party export was converted are not the operator's to fix.
  logSeverityLevel: 3,
  // Spinning idle pool threads would take the cores that decode the next images.
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

function session(task: RunTask): Promise<ort.InferenceSession> {
  const key = `${task.modelId}\u0000${task.path}`;
  let s = sessions.get(key);
  if (!s) {
    s = modelSource(task.path).then((source) =>
      typeof source === 'string' ? ort.InferenceSession.create(source, SESSION_OPTIONS) : ort.InferenceSession.create(source, SESSION_OPTIONS),
    );
    // A failed load is not cached: the next request tries again (the file may have been fixed).
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

/** Runs one model on one input tensor. */
export default async function run(task: RunTask): Promise<unknown> {
  const s = await session(task);
  const inputName = task.inputName ?? s.inputNames[0];
  if (!inputName) throw new Error(`model ${task.modelId} declares no inputs`);
  const tensor = new ort.Tensor('float32', task.input, [...task.dims]);
  const started = performance.now();
  const result = await s.run({ [inputName]: tensor });
  const runMs = performance.now() - started;
  const spare = [...(task.spare ?? [])];
  const outputs = s.outputNames.map((name) => {
    const t = result[name];
    if (!t || t.type !== 'float32') throw new Error(`model ${task.modelId}: output ${name} is not float32`);
    const data = t.data as Float32Array;
    const last = t.dims[t.dims.length - 1] ?? 1;
    if (task.argmax && t.dims.length > 1 && last > 1) return { name, data: bestClasses(data, last), dims: [...t.dims.slice(0, -1), 2] };
    // Copied into a buffer that can be transferred rather than cloned: a spare one the caller handed back when it
    // fits (see onnx-engine.ts on why), else a new one.
    const k = spare.findIndex((b) => b.byteLength >= data.byteLength);
    const copy = k >= 0 ? new Float32Array(spare.splice(k, 1)[0] as ArrayBuffer, 0, data.length) : new Float32Array(data.length);
    copy.set(data);
    return { name, data: copy, dims: [...t.dims] };
  });
  const reply: RunReply = { outputs, runMs, input: task.input, unused: spare };
  return move({
    get [transferableSymbol]() {
      return [task.input.buffer, ...outputs.map((o) => o.data.buffer), ...spare];
    },
    get [valueSymbol]() {
      return reply;
    },
  });
}
