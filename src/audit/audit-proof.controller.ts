import { BadRequestException, Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyReply } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { ContentResponse, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { AuditExport } from './audit-export.service';
import {
  checkpointList,
  checkpointsQuery,
  consistencyProof,
  consistencyQuery,
  exportQuery,
  inclusionProof,
  inclusionQuery,
  leafHashesQuery,
  signingKeyList,
} from './audit.dto';
import { Checkpointer } from './checkpointer.service';
import { MerkleStore } from './merkle-store.repository';

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
  @ContentResponse(200, 'The note', { 'text/plain': 'text' })
  @ApiNotFoundResponse({ description: 'No checkpoint yet' })
  async checkpoint(@Res() reply: FastifyReply) {
    const c = await this.checkpoints.latest();
    if (c === undefined) throw new NotFoundException('no checkpoint yet');
    void reply.header('content-type', 'text/plain; charset=utf-8').send(c.note);
  }

  @Get('checkpoint/key')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'The active checkpoint verifier key: name+keyid+base64(0x01‖Ed25519 key)' })
  @ContentResponse(200, 'The key, one line', { 'text/plain': 'text' })
  key(@Res() reply: FastifyReply) {
    void reply.header('content-type', 'text/plain; charset=utf-8').send(`${this.checkpoints.verifierKey}\n`);
  }

  @Get('checkpoint/keys')
  @Allow('read', 'AuditLog')
  @ApiOperation({
    summary:
      'Every checkpoint key, oldest first, with its validity window [notBefore, notAfter): checkpoints signed before a rotation verify with the key that was active then',
  })
  @ZodResponse(200, signingKeyList)
  keys(): z.infer<typeof signingKeyList> {
    return { keys: this.checkpoints.keys() };
  }

  @Get('checkpoints')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'Signed checkpoints, newest first (up to maxSize), for offline verification' })
  @ZodResponse(200, checkpointList)
  async list(@ZodQuery(checkpointsQuery) q: z.infer<typeof checkpointsQuery>): Promise<z.infer<typeof checkpointList>> {
    return {
      checkpoints: (await this.checkpoints.list(10_000, q.maxSize)).map((c) => ({
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
  @ZodResponse(200, inclusionProof)
  async inclusion(@ZodQuery(inclusionQuery) q: z.infer<typeof inclusionQuery>): Promise<z.infer<typeof inclusionProof>> {
    const size = q.size ?? (await this.checkpointSize());
    await this.mustFit(size);
    if (q.index >= size) throw new BadRequestException(`index must be below size (${size})`);
    const p = await this.tree.inclusion(q.index, size);
    return { index: q.index, size, leafHash: hex(p.leafHash), root: hex(p.root), proof: p.proof.map(hex) };
  }

  @Get('proof/consistency')
  @Allow('read', 'AuditLog')
  @ApiOperation({ summary: 'RFC 6962 consistency proof between tree sizes `from` and `to` (default: latest checkpoint)' })
  @ZodResponse(200, consistencyProof)
  async consistency(@ZodQuery(consistencyQuery) q: z.infer<typeof consistencyQuery>): Promise<z.infer<typeof consistencyProof>> {
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
  @ContentResponse(200, 'The leaves; x-cage-from and x-cage-to say which', { 'application/x-ndjson': 'text', 'text/csv': 'text' })
  async export(@ZodQuery(exportQuery) q: z.infer<typeof exportQuery>, @Res() reply: FastifyReply) {
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
  @ContentResponse(200, 'One `index hash` line per leaf', { 'text/plain': 'text' })
  async leafHashes(@ZodQuery(leafHashesQuery) q: z.infer<typeof leafHashesQuery>, @Res() reply: FastifyReply) {
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
