/** Ports: models and running them. */
import type { OutputTensor } from '../../domain/detection/detection.js';
import type { ModelManifest, ModelStatus, ModelTask } from '../../domain/model-manifest.js';

/** A model that passed the registry's checks, ready to load. */
export interface UsableModel {
  readonly manifest: ModelManifest;
  readonly path: string;
}

/** The model registry as the use cases see it. */
export interface ModelCatalog {
  /** Every known model and its state on this machine. */
  list(): ModelStatus[];
  /**
   * The model `id` for `task`. Throws VALIDATION_ERROR for an unknown id or the wrong task, and
   * MODEL_UNAVAILABLE (503, naming the fix) when its file is missing or fails its checksum.
   */
  require(id: string, task: ModelTask): Promise<UsableModel>;
}

/** One input tensor: NCHW float32 data and its dimensions. */
export interface InputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /**
   * Hand back each output's last axis reduced to its best class, `[..., C]` -> `[..., 2]` (index, score), for
   * callers that want only that (a CTC recognizer's 6,625 scores per step): less to copy between threads. An
   * engine may ignore it; the caller tells by the last dimension.
   */
  readonly argmax?: boolean;
}

/** What one inference call gives back. */
export interface InferenceOutput {
  readonly outputs: ReadonlyMap<string, OutputTensor>;
  /** Time spent inside `session.run`, in milliseconds. */
  readonly runMs: number;
  /** The input's buffer, handed back for reuse. */
  readonly input: Float32Array;
  /**
   * Hands the outputs' buffers back to the engine for a later call, once the caller has read them (optional: an
   * engine may reuse them). The outputs must not be read after it: their buffers move to the inference thread.
   */
  release?(): void;
}

/** Runs models off the event loop; one session per model per process. */
export interface InferenceEngine {
  /** Runs `model` on `input`. The input array is lent to the engine until the promise settles; reuse `input` from the result. */
  run(model: UsableModel, input: InputTensor): Promise<InferenceOutput>;
  /** Loads a model's session and runs it once on zeros, so the first real request pays no load cost. */
  warm(model: UsableModel): Promise<void>;
  /** Ids of the models whose sessions are loaded; absent when the engine cannot tell. */
  loadedModels?(): ReadonlySet<string>;
  close(): Promise<void>;
}
