/**
 * Walking a Keras model config as tfjs-layers will read it: the topology with or without its
 * `model_config` wrapper, containers (Sequential, Model, Functional) entered at any depth — also
 * Keras 2.1's Sequential whose config is a bare list of layers — and wrappers' inner layer
 * (TimeDistributed, Bidirectional). One walk for every check made on configs before building.
 */
type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keras containers: their config holds layers rather than being a layer of their own. */
export const CONTAINER_CLASSES = new Set(['Sequential', 'Model', 'Functional']);

export interface LayerConfigEntry {
  node: Json;
  className: string | undefined;
  /** The name the layer goes by: its config's, the entry's, else where it sits (`outer/layer 3`). */
  name: string;
  config: unknown;
  container: boolean;
}

/**
 * Calls `visit` for every layer entry, containers included, depth first in file order; a container's
 * layers and a wrapper's inner layer are entered unless `visit` returns false.
 */
export function walkLayerConfigs(modelTopology: unknown, visit: (entry: LayerConfigEntry) => boolean | void): void {
  const walk = (node: unknown, fallback: string): void => {
    if (!isRecord(node)) return;
    const className = typeof node.class_name === 'string' ? node.class_name : undefined;
    const config = node.config;
    const name = isRecord(config) && typeof config.name === 'string' ? config.name : typeof node.name === 'string' ? node.name : fallback;
    const container = className !== undefined && CONTAINER_CLASSES.has(className);
    if (visit({ node, className, name, config, container }) === false) return;
    if (container) {
      const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
      if (Array.isArray(layers)) layers.forEach((layer, i) => walk(layer, `${name}/layer ${i}`));
      return;
    }
    if (isRecord(config) && isRecord(config.layer)) walk(config.layer, `${name}/layer`);
  };
  const root = isRecord(modelTopology) && isRecord(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  walk(root, 'model');
}
