import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, Get, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import { Public } from '../auth/access.decorator';

/** Where the page's static files are: `src/ui/public` under jest, `dist/ui/public` once built. */
export const UI_DIR = join(__dirname, 'public');

/**
 * The only files served, by exact name: a request for anything else (another name, `..`, an
 * encoded slash) is a 404 without touching the file system.
 */
export const UI_ASSETS: ReadonlyMap<string, string> = new Map([
  ['index.html', 'text/html; charset=utf-8'],
  ['app.js', 'text/javascript; charset=utf-8'],
  ['api.js', 'text/javascript; charset=utf-8'],
  ['checkpoint.js', 'text/javascript; charset=utf-8'],
  ['styles.css', 'text/css; charset=utf-8'],
  ['favicon.svg', 'image/svg+xml'],
]);

/**
 * Scripts only from this origin, no inline script or style, no plugins, no framing, API calls
 * to this origin only; Trusted Types with no policy, so the page cannot assign a string to an
 * HTML sink (it renders everything from the API with textContent).
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The compliance officers' review page (control listener). The page holds no data: it is
 * static files, public like /docs; everything it shows comes from the API with the officer's
 * own token, which the browser keeps in session storage.
 */
@ApiExcludeController()
@Controller('ui')
export class UiController {
  /** `/ui`: the page's relative URLs resolve only under `/ui/`. */
  @Get()
  @Public()
  redirect(@Res() reply: FastifyReply): void {
    void reply
      .status(308)
      .headers({ ...SECURITY_HEADERS, location: '/ui/' })
      .send();
  }

  /**
   * `/ui/` and `/ui/<file>`. Nest strips a route's trailing slash, so `/ui/` is reachable only
   * through the wildcard (the one route parameter Fastify lets be empty). The file name is the
   * raw path after `/ui/`, not decoded: it must equal an allow-listed name byte for byte.
   */
  @Get('*')
  @Public()
  async file(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const path = (req.raw.url ?? '').split('?')[0];
    if (!path.startsWith('/ui/')) throw new NotFoundException('no such file');
    const name = path.slice('/ui/'.length);
    return this.send(reply, name === '' ? 'index.html' : name);
  }

  private async send(reply: FastifyReply, name: string): Promise<void> {
    const type = UI_ASSETS.get(name);
    if (type === undefined) throw new NotFoundException('no such file');
    const body = await readFile(join(UI_DIR, name));
    void reply
      .status(200)
      .headers({ ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(body.length) })
      .send(body);
  }
}
