import { constants } from 'node:fs';
import { lstat, open as openFile, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { type Readable } from 'node:stream';
import { type ObjectStore } from '../storage/object-store.service';

export interface SourceFile {
  /** Relative to the source root, `/`-separated. */
  path: string;
  size: number;
  /** Changes when the file does: size, mtime, ctime and inode (local) or size and ETag (S3). */
  fingerprint: string;
  /** Local files: the inode listed, checked again when the file is opened. */
  ino?: number;
}

/** Where raw (identifiable) data comes from. Read-only: the ingest never changes a source. */
export interface IngestSource {
  readonly description: string;
  /** Every file, sorted by path (so a re-run meets them in the same order), and what was skipped. */
  list(): Promise<{ files: SourceFile[]; skipped: { path: string; reason: string }[] }>;
  /** Opens a listed file; refuses (throws) when it is no longer the file that was listed. */
  open(file: SourceFile): Promise<Readable>;
}

export class SourceError extends Error {}

/**
 * A directory on the gateway's host, which must resolve (symbolic links followed) to inside the
 * ingest root. Symbolic links inside it are not followed, and a file is opened with O_NOFOLLOW
 * and checked to be the very file listed (inode, size), so a link swapped in later is not read.
 */
export class LocalSource implements IngestSource {
  constructor(
    private readonly root: string,
    private readonly allowedRoot: string,
  ) {}

  get description(): string {
    return this.root;
  }

  async list(): Promise<{ files: SourceFile[]; skipped: { path: string; reason: string }[] }> {
    let root: string;
    try {
      root = await realpath(this.root);
      const allowed = await realpath(this.allowedRoot);
      if (root !== allowed && !root.startsWith(allowed + sep))
        throw new SourceError('a local source must lie under the ingest root (CAGE_INGEST_ROOT), links resolved');
      if (!(await lstat(root)).isDirectory()) throw new SourceError('the source is not a directory');
    } catch (err) {
      if (err instanceof SourceError) throw err;
      throw new SourceError(`the source cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
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
          // ctime and inode too: a copy that keeps size and mtime (cp -p, rsync -t) still changes them.
          files.push({
            path: rel,
            size: st.size,
            fingerprint: `${st.size}:${Math.trunc(st.mtimeMs)}:${Math.trunc(st.ctimeMs)}:${st.ino}`,
            ino: st.ino,
          });
        } else skipped.push({ path: rel, reason: 'not a regular file' });
      }
    };
    await walk(root);
    files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    this.resolvedRoot = root;
    return { files, skipped };
  }

  private resolvedRoot: string | undefined;

  async open(file: SourceFile): Promise<Readable> {
    const handle = await openFile(join(this.resolvedRoot ?? this.root, ...file.path.split('/')), constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = await handle.stat();
    if (!st.isFile() || st.ino !== file.ino || st.size !== file.size) {
      await handle.close();
      throw new SourceError('the file changed after it was listed');
    }
    return handle.createReadStream({ autoClose: true });
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
    if (!(await this.store.bucketExists(this.bucket)))
      throw new SourceError(`bucket ${this.bucket} does not exist on the raw-data store or cannot be read`);
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

  async open(file: SourceFile): Promise<Readable> {
    const key = this.prefix === '' || this.prefix.endsWith('/') ? this.prefix + file.path : `${this.prefix}/${file.path}`;
    const o = await this.store.get(this.bucket, key);
    if (`${o.size}:${o.etag}` !== file.fingerprint) {
      o.body.destroy();
      throw new SourceError('the object changed after it was listed');
    }
    return o.body;
  }
}
