import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { type AuditLog } from '../audit/audit-log.service';
import { type Clock } from '../clock/clock';
import { type CedarPolicyEngine } from './cedar-policy.engine';
import { loadPolicyFiles } from './policy-files';

const POLL_MS = 2000;
const DEBOUNCE_MS = 100;

/**
 * Reloads the policy directory when it changes. A set that fails to parse or validate never
 * becomes active: the error is logged (and audited) and the previous set keeps deciding.
 * Activation is an audit event carrying the new set's SHA-256.
 */
export class PolicyWatcher {
  private readonly logger = new Logger('PolicyWatcher');
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastRejected: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastStamp: string | undefined;

  constructor(
    private readonly dir: string,
    private readonly engine: CedarPolicyEngine,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.dir, () => this.schedule());
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
    // Cheap first: the set is parsed and validated only when a file's name, size or mtime moved.
    const stamp = dirStamp(this.dir);
    if (stamp === this.lastStamp) return;
    this.lastStamp = stamp;
    const meta = { requestId: `policy-reload-${Date.now()}`, listener: 'internal' as const };
    let files;
    try {
      files = loadPolicyFiles(this.dir);
    } catch (err) {
      const message = (err as Error).message;
      if (message === this.lastRejected) return;
      this.lastRejected = message;
      this.logger.error({ message: 'policy set rejected; the previous set stays active', error: message, active: this.engine.active.sha256 });
      await this.audit
        .record(meta, { principal: 'gateway', team: null, action: 'policy.reject', decision: 'deny', policySet: this.engine.active.sha256, detail: { source: this.dir, error: message.slice(0, 2000) } })
        .catch(() => undefined);
      return;
    }
    this.lastRejected = undefined;
    if (files.sha256 === this.engine.active.sha256) return;
    const before = this.engine.active;
    // Logged first: a set whose activation cannot be audited does not become active (the next
    // poll tries again).
    try {
      await this.audit.record(meta, {
        principal: 'gateway',
        team: null,
        action: 'policy.activate',
        decision: 'allow',
        policySet: files.sha256,
        detail: { source: this.dir, before: before.sha256, after: files.sha256, version: before.version + 1, files: files.files },
      });
    } catch (err) {
      this.logger.error({ message: 'policy activation could not be audited; not activated', error: (err as Error).message });
      return;
    }
    const active = this.engine.activate(files, this.clock.now());
    this.logger.log({ message: 'policy set activated', sha256: active.sha256, version: active.version });
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
