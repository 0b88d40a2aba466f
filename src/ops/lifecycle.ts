import { Logger } from '@nestjs/common';

/**
 * What the gateway opened and started, stopped in the reverse order: a provider that opens a
 * database, starts a timer or a worker registers how to stop it as it is built, so shutdown
 * (and a start-up that fails half-way) undoes exactly what was done, dependents first — pending
 * leaves are flushed before the database they go to is closed.
 *
 * Nest builds independent providers concurrently, so when one fails others may still be opening:
 * `stop()` waits for opens under way (`open`), and whatever registers after stopping began is
 * stopped at once.
 */
export class Lifecycle {
  private readonly stops: { name: string; stop: () => unknown }[] = [];
  private readonly opening = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;
  private readonly logger = new Logger('Lifecycle');

  onStop(name: string, stop: () => unknown): void {
    if (this.stopping === undefined) this.stops.push({ name, stop });
    else this.stopping = this.stopping.then(() => this.run(name, stop));
  }

  /** Opens a resource and registers its stop; a stop that began meanwhile waits for it. */
  async open<T>(name: string, open: () => Promise<T>, stop: (resource: T) => unknown): Promise<T> {
    const opened = open();
    this.opening.add(opened);
    try {
      const resource = await opened;
      this.onStop(name, () => stop(resource));
      return resource;
    } finally {
      this.opening.delete(opened);
    }
  }

  /** Runs every stop once, last registered first; a failing one is logged and the rest still run. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.opening]);
      for (const { name, stop } of this.stops.reverse()) await this.run(name, stop);
    })();
    return this.stopping;
  }

  private async run(name: string, stop: () => unknown): Promise<void> {
    try {
      await stop();
    } catch (err) {
      this.logger.error(`stopping ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
