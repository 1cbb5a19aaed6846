/**
 * The flat executor, re-exported from its modules for existing importers:
 * program.ts (compile a model into a flat program), leaf.ts (one leaf call), forward.ts (forward
 * passes), folding.ts (conv → BN folding, taped step runs), gradient.ts (the gradient driver over
 * backward.ts's written-out backward pass). New code imports the module it needs.
 */
export { compileProgram, type LogitSource, type Program, type ProgramTreeNode, type Step } from './program';
export { callStep, plainLeafCall, type GradientPath } from './leaf';
export { downstreamSteps, logitFromSlots, runForward, runOutput } from './forward';
export { disposeFoldedWeights, foldPlan, prepareFoldedWeights, runTapedSteps } from './folding';
export { gradientAt, gradientError, scoreFunction } from './gradient';
