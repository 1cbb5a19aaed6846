/**
 * The requests in flight, by the id the page gave them: `cancel(id)` from the page aborts one.
 */
export class Requests {
  private readonly controllers = new Map<number, AbortController>();

  /** Run `work` as request `id`: its signal aborts when the page cancels the request. */
  async run<T>(id: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.controllers.set(id, controller);
    try {
      return await work(controller.signal);
    } finally {
      if (this.controllers.get(id) === controller) this.controllers.delete(id);
    }
  }

  cancel(id: number): void {
    this.controllers.get(id)?.abort();
  }

  get size(): number {
    return this.controllers.size;
  }
}
