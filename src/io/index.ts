/**
 * Files: the generic safetensors codec (https://github.com/huggingface/safetensors#format, `safetensors.ts`)
 * and, beside it, the RealNVP model format built on it (`model.ts`: a config document plus safetensors
 * weights). Pure functions over strings and `Uint8Array`, so that they run unchanged in Node, browsers,
 * Deno, Bun and workers. Subpaths: `flowgrad/io/safetensors`, `flowgrad/io/model`.
 *
 * @module
 */
export { loadSafetensors, safetensorsHeader, saveSafetensors, SafetensorsError } from './safetensors.ts';
export type {
  LoadedSafetensors,
  LoadSafetensorsOptions,
  SafetensorsDtype,
  SafetensorsEntry,
  SafetensorsHeader,
  SafetensorsHeaderOptions,
  SaveSafetensorsOptions,
} from './safetensors.ts';
export { loadModel, MODEL_FORMAT, MODEL_VERSION, ModelFileError, readModelConfig, saveModel } from './model.ts';
export type { LoadModelOptions, ModelDocument, SavedModel, SaveModelExtra } from './model.ts';
