/**
 * Model files: safetensors weights (https://github.com/huggingface/safetensors#format) as pure
 * functions over `Uint8Array`, so that they run unchanged in Node, browsers, Deno, Bun and workers.
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
