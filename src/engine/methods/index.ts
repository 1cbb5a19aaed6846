/**
 * The engine's method registry: every id of src/shared/methods.ts → its implementation, one file per
 * method in this folder (index.test.ts fails when an entry is missing on either side).
 */
import type { MethodId } from '../../shared/methods';
import type { MethodImplementation } from './types';
import { ablationcam } from './ablationcam';
import { attentionRolloutMethod } from './attention-rollout';
import { eigencam } from './eigencam';
import { eigengradcam } from './eigengradcam';
import { gradcam } from './gradcam';
import { gradcamElementwise } from './gradcam-elementwise';
import { gradcamPlusPlus } from './gradcam-plus-plus';
import { gradientRolloutMethod } from './gradient-rollout';
import { gradientXInput } from './gradient-x-input';
import { guidedBackprop } from './guided-backprop';
import { guidedGradcam } from './guided-gradcam';
import { hirescam } from './hirescam';
import { integratedGradientsMethod } from './integrated-gradients';
import { layercam } from './layercam';
import { rawAttention } from './raw-attention';
import { scorecam } from './scorecam';
import { smoothgrad } from './smoothgrad';
import { vanillaGradient } from './vanilla-gradient';
import { xgradcam } from './xgradcam';

export const METHOD_IMPLEMENTATIONS: Readonly<Record<MethodId, MethodImplementation>> = {
  'gradcam': gradcam,
  'gradcam-plus-plus': gradcamPlusPlus,
  'xgradcam': xgradcam,
  'hirescam': hirescam,
  'gradcam-elementwise': gradcamElementwise,
  'layercam': layercam,
  'eigencam': eigencam,
  'eigengradcam': eigengradcam,
  'scorecam': scorecam,
  'ablationcam': ablationcam,
  'guided-backprop': guidedBackprop,
  'guided-gradcam': guidedGradcam,
  'vanilla-gradient': vanillaGradient,
  'smoothgrad': smoothgrad,
  'integrated-gradients': integratedGradientsMethod,
  'gradient-x-input': gradientXInput,
  'attention-rollout': attentionRolloutMethod,
  'gradient-rollout': gradientRolloutMethod,
  'raw-attention': rawAttention,
};

export type { MethodImplementation } from './types';
export { createContext, type ContextInit, type ExplainContext, type OwnedContext } from './context';
