import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type Readable } from 'node:stream';
import { type ObjectStore } from '../storage/object-store.service';

export interface SourceFile {
  /** Relative to the source root, `/`-separated. */
  path: string;
  size: number;
  /** Changes when the file does: size and mtime (local) or size and ETag (S3). */
  fingerprint: string;
}

/** Where raw (identifiable) data comes from. Read-only: the ingest never changes a source. */
export interface IngestSource {
  readonly description: string;
  /** Every file, sorted by path (so a re-run meets them in the same order), and what was skipped. */
  list(): Promise<{ files: SourceFile[]; skipped: { path: string; reason: string }[] }>;
  open(path: string): Promise<Readable>;
}

export class SourceError extends Error {}

/** A directory on the gateway's host. Symbolic links are not followed (they could leave the root). */
export class LocalSource implements IngestSource {
  constructor(private readonly root: string) {}

  get description(): string {
    return this.root;
  }

  async list(): Promise<{ files: SourceFile[]; skipped: { path: string; reason: string }[] }> {
    let root: string;
    try {
      root = await realpath(this.root);
      if (!(await lstat(root)).isDirectory()) throw new SourceError(`${this.root} is not a directory`);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`${this.root} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const files: SourceFile[] = [];
    const skipped: { path: string; reason: string }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const d of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, d.name);
        const rel = relative(root, full).split(sep).join('/');
        if (d.isSymbolicLink()) skipped.push({ path: rel, reason: 'symbolic link (not followed)' });
        else if (d.isDirectory()) await walk(full);
        else if (d.isFile()) {
          const st = await lstat(full);
          files.push({ path: rel, size: st.size, fingerprint: `${st.size}:${Math.trunc(st.mtimeMs)}` });
        } else skipped.push({ path: rel, reason: 'not a regular file' });
      }
    };
    await walk(root);
    files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    this.resolvedRoot = root;
    return { files, skipped };
  }

  private resolvedRoot: string | undefined;

  open(path: string): Promise<Readable> {
    return Promise.resolve(createReadStream(join(this.resolvedRoot ?? this.root, ...path.split('/'))));
  }
}

/** `s3://bucket/prefix` on the raw-data store (CAGE_RAW_S3_*; the gateway's own store when unset). */
export class S3Source implements IngestSource {
  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  get description(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  async list(): Promise<{ files: SourceFile[]; skipped: { path: string; reason: string }[] }> {
    if (!(await this.store.bucketExists(this.bucket))) throw new SourceError(`bucket ${this.bucket} does not exist on the raw-data store or cannot be read`);
    const files: SourceFile[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.store.list(this.bucket, this.prefix, after, 1000);
      for (const o of page.objects) {
        after = o.key;
        if (o.key.endsWith('/')) continue;
        files.push({ path: o.key.slice(this.prefix.length).replace(/^\/+/, ''), size: o.size, fingerprint: `${o.size}:${o.etag}` });
      }
      if (!page.truncated || page.objects.length === 0) break;
    }
    files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    return { files, skipped: [] };
  }

  async open(path: string): Promise<Readable> {
    const key = this.prefix === '' || this.prefix.endsWith('/') ? this.prefix + path : `${this.prefix}/${path}`;
    return (await this.store.get(this.bucket, key)).body;
  }
}
