import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';
import { type z } from 'zod';
import { type AuditLog, type RequestMeta } from '../audit/audit-log.service';
import { type UserPrincipal } from '../principal/principal';
import { type Clock } from '../clock/clock';
import { Ids } from '../clock/ids';
import { type DatasetRepository } from '../datasets/dataset.repository';
import { type GrantRecord, type GrantRepository } from './grant.repository';
import { type TeamRepository } from '../teams/team.repository';
import { actor } from '../principal/principal';
import { type GrantView, type newGrant } from './grants.dto';

export type NewGrantInput = z.infer<typeof newGrant>;

/**
 * Grants: team → dataset split, inside [notBefore, notAfter). Refused with a clear 4xx and no
 * change: unknown team, dataset or split; an inverted window; a window that overlaps another
 * unrevoked grant of the same team and split (two grants would make revoking one meaningless).
 * Revocation reaches every replica's next decision within a second (grant caches are 500 ms).
 */
export class GrantService {
  constructor(
    private readonly grants: GrantRepository,
    private readonly teams: TeamRepository,
    private readonly datasets: DatasetRepository,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ids: Ids = new Ids(),
  ) {}

  async create(user: UserPrincipal, g: NewGrantInput, meta: RequestMeta): Promise<GrantView> {
    if (!(g.notAfter.getTime() > g.notBefore.getTime())) throw new BadRequestException('notAfter must be after notBefore');
    if ((await this.teams.get(g.team)) === undefined) throw new NotFoundException(`no such team ${JSON.stringify(g.team)}`);
    const dataset = await this.datasets.get(g.dataset);
    if (dataset === undefined) throw new NotFoundException(`no such dataset ${JSON.stringify(g.dataset)}`);
    if (!dataset.splits.some((s) => s.name === g.split)) {
      throw new NotFoundException(
        `dataset ${g.dataset} has no split ${JSON.stringify(g.split)} (it has ${dataset.splits.map((s) => s.name).join(', ')})`,
      );
    }
    const overlapping = (await this.grants.list({ team: g.team, dataset: g.dataset, split: g.split, unrevoked: true })).find(
      (o) => new Date(o.notBefore) < g.notAfter && g.notBefore < new Date(o.notAfter),
    );
    if (overlapping !== undefined)
      throw new ConflictException(
        `overlaps grant ${overlapping.id} (${overlapping.notBefore} .. ${overlapping.notAfter}); revoke it or pick another window`,
      );
    const id = `grant-${this.ids.uuid()}`;
    const now = this.clock.now();
    const record = {
      id,
      team: g.team,
      dataset: g.dataset,
      split: g.split,
      notBefore: g.notBefore,
      notAfter: g.notAfter,
      byteQuota: g.byteQuota ?? null,
    };
    await this.grants.insert(record, now, actor(user));
    const view = (await this.grants.get(id))!;
    await this.audit.record(meta, {
      principal: actor(user),
      team: g.team,
      action: 'grant.create',
      decision: 'allow',
      resource: { type: 'grant', id },
      detail: {
        after: {
          team: g.team,
          dataset: g.dataset,
          split: g.split,
          notBefore: view.notBefore,
          notAfter: view.notAfter,
          byteQuota: view.byteQuota,
        },
      },
    });
    return this.view(view);
  }

  async list(q: { team?: string; dataset?: string; active?: boolean }): Promise<GrantView[]> {
    const all = (await this.grants.list({ team: q.team, dataset: q.dataset })).map((g) => this.view(g));
    return q.active === undefined ? all : all.filter((g) => (g.state === 'active') === q.active);
  }

  async revoke(user: UserPrincipal, id: string, meta: RequestMeta): Promise<GrantView> {
    const before = await this.grants.get(id);
    if (before === undefined) throw new NotFoundException(`no such grant ${JSON.stringify(id)}`);
    if (before.revokedAt !== null) throw new ConflictException(`grant ${id} was already revoked at ${before.revokedAt}`);
    await this.grants.revoke(id, this.clock.now(), actor(user));
    const after = (await this.grants.get(id))!;
    await this.audit.record(meta, {
      principal: actor(user),
      team: before.team,
      action: 'grant.revoke',
      decision: 'allow',
      resource: { type: 'grant', id },
      detail: { before: { revokedAt: null }, after: { revokedAt: after.revokedAt } },
    });
    return this.view(after);
  }

  private view(g: GrantRecord): GrantView {
    const now = this.clock.now().getTime();
    const state =
      g.revokedAt !== null
        ? 'revoked'
        : now < new Date(g.notBefore).getTime()
          ? 'scheduled'
          : now >= new Date(g.notAfter).getTime()
            ? 'expired'
            : 'active';
    return { ...g, state };
  }
}
