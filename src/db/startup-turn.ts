import { type HeldLock } from './advisory-locks';

/**
 * A replica's turn to start: held from just after the migrations until its bootstrap is done, so
 * replicas started at the same moment on an empty database run their first-start steps (the first
 * policy version, the demo, bootstrap credentials) one after the other and each later one finds
 * them done. A replica that dies mid-start releases it with its session.
 */
export class StartupTurn {
  constructor(private readonly held: HeldLock) {}

  end(): Promise<void> {
    return this.held.release();
  }
}
