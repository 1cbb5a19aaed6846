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
import { occlusion } from './occlusion';
import { rise } from './rise';
import { featureAblation } from './feature-ablation';
import { lime } from './lime';
import { kernelShap } from './kernel-shap';
import { shapleySampling } from './shapley-sampling';
import { sobol } from './sobol';
import { hsic } from './hsic';
import { smoothgradSq } from './smoothgrad-sq';
import { vargrad } from './vargrad';
import { squaregrad } from './squaregrad';
import { gradientShapMethod } from './gradient-shap';
import { kpcaCam } from './kpca-cam';
import { finerCam } from './finer-cam';
import { deepFeatureFactorization } from './dff';
import { deepLift } from './deeplift';
import { deepLiftShapMethod } from './deeplift-shap';
import { deconvolution } from './deconvolution';
import { lrpEpsilonMethod } from './lrp';
import { fullGrad } from './fullgrad';
import { shapleyCam } from './shapley-cam';
import { lrpAlphaBetaMethod } from './lrp-alpha-beta';

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
  'occlusion': occlusion,
  'rise': rise,
  'feature-ablation': featureAblation,
  'lime': lime,
  'kernel-shap': kernelShap,
  'shapley-sampling': shapleySampling,
  'sobol': sobol,
  'hsic': hsic,
  'smoothgrad-sq': smoothgradSq,
  'vargrad': vargrad,
  'squaregrad': squaregrad,
  'gradient-shap': gradientShapMethod,
  'kpca-cam': kpcaCam,
  'finer-cam': finerCam,
  'dff': deepFeatureFactorization,
  'deeplift': deepLift,
  'deeplift-shap': deepLiftShapMethod,
  'deconvolution': deconvolution,
  'lrp-epsilon': lrpEpsilonMethod,
  'fullgrad': fullGrad,
  'shapley-cam': shapleyCam,
  'lrp-alpha-beta': lrpAlphaBetaMethod,
  'attention-rollout': attentionRolloutMethod,
  'gradient-rollout': gradientRolloutMethod,
  'raw-attention': rawAttention,
};

export type { MethodImplementation } from './types';
export { createContext, type ContextInit, type ExplainContext, type OwnedContext } from './context';
