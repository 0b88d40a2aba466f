import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FastifyRequest } from 'fastify';
import { type z } from 'zod';
import { Allow } from '../auth/access.decorator';
import { CurrentUser } from '../auth/principal.decorator';
import { ZodBody, ZodQuery, ZodResponse } from '../ops/openapi.decorators';
import { controlMeta as meta } from '../ops/request-meta';
import { type UserPrincipal } from '../principal/principal';
import { leaderboard, selection, submissionList, submissionQuery, submissionView } from './leaderboard.dto';
import { LeaderboardService } from './leaderboard.service';

/** The leaderboard, the teams' submissions and the close (control listener, people). */
@ApiTags('leaderboard')
@Controller('v1')
export class LeaderboardController {
  constructor(private readonly board: LeaderboardService) {}

  @Get('leaderboard')
  @Allow('read', 'Leaderboard')
  @ApiOperation({ summary: 'The public leaderboard (shown scores), and after the close the private ranking' })
  @ZodResponse(200, leaderboard)
  get(@CurrentUser() user: UserPrincipal): Promise<z.infer<typeof leaderboard>> {
    return this.board.board(user);
  }

  @Post('leaderboard/close')
  @HttpCode(200)
  @Allow('manage', 'Leaderboard')
  @ApiOperation({ summary: "Close the competition: score each team's final submissions on the private part, publish the ranking (once)" })
  @ZodResponse(200, leaderboard)
  close(@CurrentUser() user: UserPrincipal, @Req() req: FastifyRequest): Promise<z.infer<typeof leaderboard>> {
    return this.board.close(user, meta(req));
  }

  @Get('submissions')
  @Allow('read', 'Submission')
  @ApiOperation({
    summary: "Submissions as the Ladder showed them (a contestant: their team's; organizers and auditors: with exact scores)",
  })
  @ZodResponse(200, submissionList)
  async list(
    @CurrentUser() user: UserPrincipal,
    @ZodQuery(submissionQuery) query: z.infer<typeof submissionQuery>,
  ): Promise<z.infer<typeof submissionList>> {
    return { submissions: await this.board.submissions(user, query.team) };
  }

  @Post('submissions/:id/selection')
  @HttpCode(200)
  @Allow('update', 'Submission')
  @ApiOperation({ summary: 'Select (or unselect) one of the team’s final submissions, before the close' })
  @ZodResponse(200, submissionView)
  select(
    @CurrentUser() user: UserPrincipal,
    @Param('id') id: string,
    @ZodBody(selection) body: z.infer<typeof selection>,
    @Req() req: FastifyRequest,
  ): Promise<z.infer<typeof submissionView>> {
    return this.board.select(user, id, body.selected, meta(req));
  }
}
