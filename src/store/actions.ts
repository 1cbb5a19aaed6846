/**
 * Everything the page can do, one import for the UI: the feature actions live in their own files
 * (session primitives in session.ts; boot, open / drop, explain, export-share, metrics), this file
 * only gathers them and resets them all for unit tests.
 */
import { resetBootForTest } from './boot';
import { resetExplainForTest } from './explain';
import { setExportExtras } from './export-share';
import { resetMetricsForTest } from './metrics';
import { resetSessionForTest } from './session';
import { initialState, useStore } from './store';

export { getClient, whenClient, pushNotice, dismissNotices, isCancelled, type ExplainOutcome } from './session';
export { boot, attachPanels, forgetCachedModels, switchBackend } from './boot';
export { openDemo, openAndExplain } from './open';
export { dropFiles } from './drop';
export {
  explainOptions, gridSpec, cancelExplain, runExplain, selectLayer, setTarget, setOutput, setCounterfactual, setMethods, toggleMethod,
  setMethodOption, setSmoothing, setGrid, setPreprocess, resetPreprocess, setView,
} from './explain';
export {
  setExportExtras, exportCaption, fileNamePart, exportFileName, exportPng, canCopyImages, shareRoute, copyImage, share, largeViewCaption,
  largeViewFileName, largeViewImages, exportLargeView, copyLargeView, shareLargeView, tfjsZipName, zipExportedFiles, exportTfjs, type ShareRoute,
} from './export-share';
export { cancelMetrics, setMetricsSettings, measureFaithfulness, runSanityCheck } from './metrics';

/** Forget the client and all state (unit tests). */
export function resetForTest(): void {
  resetBootForTest();
  resetSessionForTest();
  resetExplainForTest();
  resetMetricsForTest();
  setExportExtras(null);
  useStore.setState(initialState(), true);
}
