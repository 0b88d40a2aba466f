import { Readable } from 'node:stream';
import { type AuditLeaf } from './audit-leaf';
import { type AuditRepository } from './audit.repository';
import { csvCell } from './csv';
import { type MerkleStore } from './merkle-store.repository';

const PAGE = 2000;

/**
 * Streams the log for export, page by page (bounded memory at any size). A JSONL line is exactly
 * a leaf's canonical bytes, so anyone can recompute SHA-256(0x00 ‖ line) and the root without
 * this code. CSV adds the index and hash and flattens the fields, with the leaf bytes last.
 */
export class AuditExport {
  constructor(
    private readonly leaves: AuditRepository,
    private readonly tree: MerkleStore,
  ) {}

  stream(format: 'jsonl' | 'csv', from: number, to: number): Readable {
    const pages = this.pages(from, to);
    async function* lines() {
      if (format === 'csv')
        yield 'index,hash,time,principal,team,listener,action,decision,status,resource_type,dataset,key_hex,resource_id,range,bytes,sha256,policies,policy_set,leaf\n';
      for await (const rows of pages) {
        let chunk = '';
        for (const r of rows) chunk += format === 'jsonl' ? `${r.leaf}\n` : csvRow(r);
        yield chunk;
      }
    }
    return Readable.from(lines());
  }

  hashes(from: number, to: number): Readable {
    const tree = this.tree;
    async function* lines() {
      for (let at = from; at < to; at += PAGE) {
        const hashes = await tree.leafHashes(at, Math.min(to, at + PAGE));
        yield [...hashes].map(([idx, h]) => `${idx} ${h.toString('hex')}\n`).join('');
      }
    }
    return Readable.from(lines());
  }

  private async *pages(from: number, to: number): AsyncGenerator<{ idx: number; hash: string; leaf: string }[]> {
    for (let at = from; at < to; at += PAGE) {
      yield await this.leaves.rawRange(at, Math.min(to, at + PAGE));
    }
  }
}

function csvRow(r: { idx: number; hash: string; leaf: string }): string {
  const l = JSON.parse(r.leaf) as AuditLeaf;
  const cells = [
    r.idx,
    r.hash,
    l.time,
    l.principal,
    l.team,
    l.listener,
    l.action,
    l.decision,
    l.status,
    l.resource?.type,
    l.resource?.dataset,
    l.resource?.keyHex,
    l.resource?.id,
    l.range,
    l.bytes,
    l.sha256,
    l.policies.join(' '),
    l.policySet,
    r.leaf,
  ];
  return `${cells.map(csvCell).join(',')}\n`;
}
