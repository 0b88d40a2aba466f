import { BadRequestException, Controller, Get, NotFoundException, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { parseOrThrow } from '../ops/validation';
import { AuditExport } from './audit-export.service';
import { Checkpointer } from './checkpointer.service';
import { MerkleStore } from './merkle-store.repository';

const index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const inclusionQuery = z.object({ index, size: index.optional() }).strict();
const consistencyQuery = z.object({ from: index, to: index.optional() }).strict();
const exportQuery = z.object({ format: z.enum(['jsonl', 'csv']).default('jsonl'), from: index.default(0), to: index.optional() }).strict();

const hex = (b: Buffer) => b.toString('hex');

/** Tree heads, proofs and exports for compliance officers (auditor and organizer roles). */
@ApiTags('audit')
@Controller('v1/audit')
export class AuditProofController {
  constructor(
    private readonly tree: MerkleStore,
    private readonly checkpoints: Checkpointer,
    private readonly exporter: AuditExport,
  ) {}

  @Get('checkpoint')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'The latest signed checkpoint (C2SP tlog-checkpoint note, text/plain)' })
  async checkpoint(@Res() reply: FastifyReply) {
    const c = await this.checkpoints.latest();
    if (c === undefined) throw new NotFoundException('no checkpoint yet');
    void reply.header('content-type', 'text/plain; charset=utf-8').send(c.note);
  }

  @Get('checkpoint/key')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'The active checkpoint verifier key: name+keyid+base64(0x01‖Ed25519 key)' })
  key(@Res() reply: FastifyReply) {
    void reply.header('content-type', 'text/plain; charset=utf-8').send(`${this.checkpoints.verifierKey}\n`);
  }

  @Get('checkpoint/keys')
  @Allow('read', 'AuditLog')
  @ApiOperation({
    summary:
      'Every checkpoint key, oldest first, with its validity window [notBefore, notAfter): checkpoints signed before a rotation verify with the key that was active then',
  })
  keys() {
    return { keys: this.checkpoints.keys() };
  }

  @Get('checkpoints')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Signed checkpoints, newest first (up to maxSize), for offline verification' })
  async list(@Query('maxSize') maxSize?: string) {
    const max = maxSize === undefined ? undefined : parseOrThrow(index, maxSize);
    return {
      checkpoints: (await this.checkpoints.list(10_000, max)).map((c) => ({
        size: c.size,
        root: hex(c.root),
        createdAt: c.createdAt,
        note: c.note,
      })),
    };
  }

  @Get('proof/inclusion')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'RFC 6962 inclusion proof of leaf `index` in the tree of `size` (default: latest checkpoint)' })
  @ApiQuery({ name: 'index' })
  @ApiQuery({ name: 'size', required: false })
  async inclusion(@Query() query: unknown) {
    const q = parseOrThrow(inclusionQuery, query);
    const size = q.size ?? (await this.checkpointSize());
    await this.mustFit(size);
    if (q.index >= size) throw new BadRequestException(`index must be below size (${size})`);
    const p = await this.tree.inclusion(q.index, size);
    return { index: q.index, size, leafHash: hex(p.leafHash), root: hex(p.root), proof: p.proof.map(hex) };
  }

  @Get('proof/consistency')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'RFC 6962 consistency proof between tree sizes `from` and `to` (default: latest checkpoint)' })
  @ApiQuery({ name: 'from' })
  @ApiQuery({ name: 'to', required: false })
  async consistency(@Query() query: unknown) {
    const q = parseOrThrow(consistencyQuery, query);
    const to = q.to ?? (await this.checkpointSize());
    await this.mustFit(to);
    if (q.from < 1 || q.from > to) throw new BadRequestException(`from must be 1..to (${to})`);
    const p = await this.tree.consistency(q.from, to);
    return { from: q.from, to, fromRoot: hex(p.fromRoot), toRoot: hex(p.toRoot), proof: p.proof.map(hex) };
  }

  @Get('export')
  @Allow('read', 'AuditLog')
  @ApiOperation({
    summary: 'Leaves [from, to) streamed as JSONL (each line exactly the leaf bytes) or CSV; `to` defaults to the latest checkpoint size',
  })
  @ApiQuery({ name: 'format', required: false, enum: ['jsonl', 'csv'] })
  @ApiQuery({ name: 'from', required: false })
  @ApiQuery({ name: 'to', required: false })
  async export(@Query() query: unknown, @Res() reply: FastifyReply) {
    const q = parseOrThrow(exportQuery, query);
    const to = q.to ?? (await this.checkpointSize());
    await this.mustFit(to);
    if (q.from > to) throw new BadRequestException('from must not be after to');
    void reply
      .header('content-type', q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
      .header('x-cage-from', String(q.from))
      .header('x-cage-to', String(to))
      .send(this.exporter.stream(q.format, q.from, to));
  }

  @Get('leaf-hashes')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'The tree’s leaf hashes [from, to), one hex per line: lets a verifier name the first bad index' })
  async leafHashes(@Query() query: unknown, @Res() reply: FastifyReply) {
    const q = parseOrThrow(exportQuery.omit({ format: true }), query);
    const to = q.to ?? (await this.checkpointSize());
    await this.mustFit(to);
    void reply.header('content-type', 'text/plain; charset=utf-8').send(this.exporter.hashes(q.from, to));
  }

  /** The latest checkpoint's size, or the log's if it is shorter (a truncated log exports what is left). */
  private async checkpointSize(): Promise<number> {
    const n = await this.tree.size();
    return Math.min((await this.checkpoints.latest())?.size ?? n, n);
  }

  private async mustFit(size: number): Promise<void> {
    const n = await this.tree.size();
    if (size > n) throw new BadRequestException(`the log has ${n} leaves`);
  }
}
