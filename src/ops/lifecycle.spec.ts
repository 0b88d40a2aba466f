import { Lifecycle } from './lifecycle';

describe('Lifecycle', () => {
  it('stops what was started in the reverse order, each once', async () => {
    const lifecycle = new Lifecycle();
    const order: string[] = [];
    lifecycle.onStop('database', () => order.push('database'));
    lifecycle.onStop('audit writer', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('audit writer');
    });
    lifecycle.onStop('ingest runs', () => order.push('ingest runs'));
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(order).toEqual(['ingest runs', 'audit writer', 'database']);
  });

  it('should not leave the rest running when one stop fails', async () => {
    const lifecycle = new Lifecycle();
    const order: string[] = [];
    lifecycle.onStop('database', () => order.push('database'));
    lifecycle.onStop('checkpointer', () => {
      throw new Error('store down');
    });
    await expect(lifecycle.stop()).resolves.toBeUndefined();
    expect(order).toEqual(['database']);
  });
});

describe('Lifecycle during a failed start', () => {
  it('waits for a resource still opening, and stops what registers after stopping began', async () => {
    const lifecycle = new Lifecycle();
    const order: string[] = [];
    let finishOpening: (v: string) => void = () => undefined;
    const opening = lifecycle.open(
      'store',
      () => new Promise<string>((r) => (finishOpening = r)),
      () => order.push('store'),
    );
    const stopped = lifecycle.stop();
    finishOpening('s3');
    await opening;
    await stopped;
    expect(order).toEqual(['store']);
    lifecycle.onStop('late timer', () => order.push('late timer'));
    await lifecycle.stop();
    expect(order).toEqual(['store', 'late timer']);
  });
});
