import { Writable } from 'node:stream';
import { type LoggerService } from '@nestjs/common';
import { createLogger, logFormatFor } from './logger';

/** Lines a logger made by `make` writes while fn runs. */
function captured(make: (stream: Writable) => LoggerService, fn: (log: LoggerService) => void): string[] {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  fn(make(stream));
  return out
    .join('')
    .split('\n')
    .filter((l) => l !== '');
}

describe('logger', () => {
  it('picks coloured lines on a terminal and JSON otherwise, unless told', () => {
    expect(logFormatFor('auto', true)).toBe('pretty');
    expect(logFormatFor('auto', false)).toBe('json');
    expect(logFormatFor('json', true)).toBe('json');
    expect(logFormatFor('pretty', false)).toBe('pretty');
  });

  it('writes one JSON object a line, and keeps Nest route mapping out below debug', () => {
    const lines = captured(
      (stream) => createLogger('info', 'json', stream),
      (log) => {
        log.log('Mapped {/v1/datasets, GET} route', 'RouterExplorer');
        log.log({ message: 'cage gateway listening', control: 'http://127.0.0.1:8080' }, 'Main');
      },
    );
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: 'info',
      context: 'Main',
      message: 'cage gateway listening',
      control: 'http://127.0.0.1:8080',
    });
    const debug = captured(
      (stream) => createLogger('debug', 'json', stream),
      (log) => {
        log.log('Mapped {/v1/datasets, GET} route', 'RouterExplorer');
      },
    );
    expect(debug.map((l) => (JSON.parse(l) as { context: string }).context)).toEqual(['RouterExplorer']);
  });

  it('writes coloured, human lines when pretty', () => {
    const lines = captured(
      (stream) => createLogger('info', 'pretty', stream),
      (log) => {
        log.log({ message: 'cage gateway listening', control: 'http://127.0.0.1:8080' }, 'Main');
      },
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('\u001b[');
    expect(lines[0]).toContain('cage gateway listening');
    expect(() => {
      JSON.parse(lines[0]);
    }).toThrow();
  });
});
