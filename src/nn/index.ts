/** Layers and models: Module, Linear, activations, Sequential, MLP, embedding networks, initialisers. @module */
export { Module, StateDictError } from './module.ts';
export type { LoadOptions, StateValue } from './module.ts';
export { activation, LeakyReLU, Layer, Linear, MLP, ReLU, Sequential, Sigmoid, Softplus, Tanh } from './layers.ts';
export type { ActivationName, LinearOptions, MLPOptions } from './layers.ts';
export * as init from './init.ts';
export { DeepSetEmbedding, Embedding, embeddingFromConfig, MLPEmbedding } from './embedding.ts';
export type { DeepSetEmbeddingConfig, DeepSetEmbeddingOptions, EmbeddingConfig, MLPEmbeddingConfig, MLPEmbeddingOptions } from './embedding.ts';
