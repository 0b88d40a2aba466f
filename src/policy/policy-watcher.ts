import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { type AuditLog } from '../audit/audit-log.service';
import { type GatewayStateRepository } from '../db/gateway-state.repository';
import { type PolicyMap, readPolicyDir } from './policy-files';
import { PolicyRefused, type PolicyStore } from './policy-store';

const POLL_MS = 2000;
const DEBOUNCE_MS = 100;
const SEEN_KEY = 'policy.dir.seen';

/**
 * Activates the policy directory (CAGE_POLICY_DIR) when it changes, at run time or while the
 * gateway was down, through the same checks as the API: a set that fails to parse, validate or
 * meet its expectations never becomes active (the error is logged and audited, the previous set
 * keeps deciding). A directory that has not changed since it was last seen never overrides a set
 * an organizer activated through the API.
 */
export class PolicyWatcher {
  private readonly logger = new Logger('PolicyWatcher');
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastStamp: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly store: PolicyStore,
    private readonly state: GatewayStateRepository,
    private readonly audit: AuditLog,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.dir, { recursive: false }, () => this.schedule());
      this.watcher.on('error', () => undefined);
    } catch (err) {
      this.logger.warn(`cannot watch ${this.dir} (${(err as Error).message}); polling only`);
    }
    this.poll = setInterval(() => this.schedule(), POLL_MS);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    if (this.poll !== undefined) clearInterval(this.poll);
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    await this.running;
  }

  /** Re-reads the directory now; resolves once the outcome is applied and logged. */
  reload(): Promise<void> {
    this.running = this.running.then(() => this.apply());
    return this.running;
  }

  private schedule(): void {
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), DEBOUNCE_MS);
  }

  private async apply(): Promise<void> {
    // Cheap first: files are read only when a name, size or mtime moved.
    const stamp = dirStamp(this.dir);
    if (stamp === this.lastStamp) return;
    this.lastStamp = stamp;
    let map: PolicyMap;
    try {
      map = readPolicyDir(this.dir);
    } catch (err) {
      this.logger.error({ message: 'cannot read the policy directory', error: (err as Error).message });
      return;
    }
    const seen = createHash('sha256')
      .update(JSON.stringify(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : 1))))
      .digest('hex');
    if ((await this.state.get(SEEN_KEY)) === seen) return;
    const meta = { requestId: `policy-dir-${Date.now()}`, listener: 'internal' as const };
    try {
      const check = this.store.check(map);
      if (check.ok && check.sha256 === this.store.engine.active.sha256) {
        await this.remember(seen);
        return;
      }
      const v = await this.store.activate(map, 'policy-dir', meta, { source: this.dir }, 'converge');
      this.logger.log({ message: 'policy set activated from the directory', version: v.version, sha256: v.sha256 });
      await this.remember(seen);
    } catch (err) {
      if (!(err instanceof PolicyRefused)) {
        this.lastStamp = undefined; // try again at the next poll
        this.logger.error({ message: 'policy activation failed; the previous set stays active', error: (err as Error).message });
        return;
      }
      await this.remember(seen);
      this.logger.error({
        message: 'policy set rejected; the previous set stays active',
        error: err.message,
        active: this.store.engine.active.sha256,
      });
      await this.audit
        .record(meta, {
          principal: 'policy-dir',
          team: null,
          action: 'policy.reject',
          decision: 'deny',
          policySet: this.store.engine.active.sha256,
          detail: { source: this.dir, error: err.message.slice(0, 2000) },
        })
        .catch(() => undefined);
    }
  }

  private async remember(seen: string): Promise<void> {
    await this.state.set(SEEN_KEY, seen);
  }
}

function dirStamp(dir: string): string {
  const parts: string[] = [];
  const walk = (d: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      parts.push(`${d}:unreadable`);
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const st = statSync(p);
        if (st.isDirectory() && depth < 2) walk(p, depth + 1);
        else parts.push(`${p}:${st.size}:${st.mtimeMs}`);
      } catch {
        parts.push(`${p}:gone`);
      }
    }
  };
  walk(dir, 0);
  return parts.join('|');
}
