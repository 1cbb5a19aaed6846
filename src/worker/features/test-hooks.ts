/** Hooks the e2e tests use to make the worker fail in the ways real ones do (device loss, trap, hang). */
import { guard, postFatal } from '../guard';
import { trapNow } from '../wasm-trap';

export function makeTestHooksApi() {
  return {
    /** Report a WebGPU device loss as if the GPU had gone away. */
    async simulateDeviceLossForTest(_requestId: number): Promise<void> {
      postFatal('DEVICE_LOST', 'simulated for a test');
    },

    /** Run a real WebAssembly `unreachable` trap inside the worker's error path. */
    trapForTest(_requestId: number): Promise<void> {
      return guard(async () => trapNow(), 'running a test trap');
    },

    /** Block the worker's thread for `ms` (a hung computation, for the watchdog). */
    async hangForTest(_requestId: number, ms: number): Promise<void> {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // Busy on purpose: a computation that never yields to the event loop.
      }
    },
  };
}
