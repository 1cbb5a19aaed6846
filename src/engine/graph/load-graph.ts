/**
 * A graph model's artifacts → a ProgramHost: tfjs-converter decodes the weights (quantized ones
 * too) and keeps the graph for ops without an adapter; the compiled program runs everything else.
 */
import * as tf from '@tensorflow/tfjs';
import { StudioError, notice, studioError, type StudioNotice } from '../../shared/errors';
import type { OpenedModel } from '../formats/reader';
import type { ProgramHost } from '../executor/program';
import { parseGraphDef } from './graph-def';
import { compileGraphProgram } from './graph-program';
import type { ConverterRun } from './graph-ops';
import { validateGraphDef } from './graph-validate';

/** Image size used when the graph leaves height/width open ([-1, -1, -1, 3]). */
const ASSUMED_SIZE = 224;

/** An error from tfjs while compiling or warming up the graph, as a specific code (never INTERNAL). */
function graphBuildError(e: unknown, model: string): StudioError {
  if (e instanceof StudioError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const op = /Unknown op '([^']+)'|Op is not supported: (\w+)|(\w+) activation not yet supported/.exec(message)?.slice(1).find(Boolean);
  if (op) return studioError('GRAPH_OP_UNSUPPORTED', { op, node: model });
  return studioError('MODEL_BUILD_FAILED', { reason: message });
}

export async function buildGraphHost(opened: OpenedModel): Promise<ProgramHost> {
  const { artifacts } = opened;
  const def = parseGraphDef(artifacts.modelTopology, artifacts.signature);
  const warnings: StudioNotice[] = [];
  const shape = [...def.inputShape];
  if (shape.length === 4 && (shape[1]! <= 0 || shape[2]! <= 0)) {
    shape[1] = shape[1]! > 0 ? shape[1]! : ASSUMED_SIZE;
    shape[2] = shape[2]! > 0 ? shape[2]! : ASSUMED_SIZE;
    warnings.push(notice('INPUT_SIZE_ASSUMED', { size: `${shape[1]}×${shape[2]}` }));
  }
  def.inputShape = shape;
  validateGraphDef(def);

  let graph: tf.GraphModel;
  try {
    graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const op = /Op is not supported: (\w+)|Unknown op '([^']+)'/.exec(message)?.slice(1).find(Boolean);
    if (op) throw studioError('GRAPH_OP_UNSUPPORTED', { op, node: def.nodes.find((n) => n.op === op)?.name ?? op });
    throw studioError('MODEL_BUILD_FAILED', { reason: message });
  }
  const converter: ConverterRun = (feeds, outputs) => {
    const out = graph.execute(feeds, outputs);
    return Array.isArray(out) ? out : [out];
  };
  try {
    const { program, layers, folded } = compileGraphProgram(def, graph.weights as Record<string, tf.Tensor[]>, converter, opened.name);
    const weightTensors = Object.values(graph.weights as Record<string, tf.Tensor[]>).flat();
    const outputShapes = program.outputSlots.map((slot) => program.steps.find((s) => s.outputs.includes(slot))?.outputShape ?? []);
    return {
      program,
      inputShape: [null, ...shape.slice(1)],
      outputShapes,
      outputNames: def.outputs,
      params: weightTensors.filter((t) => t.dtype === 'float32').reduce((n, t) => n + t.size, 0),
      weightBytes: weightTensors.reduce((n, t) => n + t.size * 4, 0),
      layersModel: null,
      warnings,
      dispose: () => {
        tf.dispose(folded);
        for (const layer of layers) tf.dispose(layer.owned);
        graph.dispose();
      },
    };
  } catch (e) {
    graph.dispose();
    throw graphBuildError(e, opened.name);
  }
}
