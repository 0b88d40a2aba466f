import { parseCompleteDocument } from './multipart-uploads.service';

describe('parseCompleteDocument', () => {
  const doc = (parts: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`;
  const part = (n: number, etag = 'a'.repeat(32)) => `<Part><ETag>"${etag}"</ETag><PartNumber>${n}</PartNumber></Part>`;

  it('reads the parts, their numbers and ETags (quoted or &quot;-escaped)', () => {
    expect(
      parseCompleteDocument(doc(part(1) + `<Part><PartNumber>2</PartNumber><ETag>&quot;${'B'.repeat(32)}&quot;</ETag></Part>`), 10),
    ).toEqual([
      { partNumber: 1, etag: 'a'.repeat(32) },
      { partNumber: 2, etag: 'b'.repeat(32) },
    ]);
  });

  it('should not accept parts out of order, more parts than allowed, or a malformed document', () => {
    expect(() => parseCompleteDocument(doc(part(2) + part(1)), 10)).toThrow(expect.objectContaining({ code: 'InvalidPartOrder' }));
    expect(() => parseCompleteDocument(doc(part(1) + part(2) + part(3)), 2)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
    for (const bad of ['', doc(''), doc('<Part><PartNumber>1</PartNumber></Part>'), `${doc(part(1))}<extra/>`, `<Other>${part(1)}</Other>`])
      expect(() => parseCompleteDocument(bad, 10)).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });

  it('answers a 2 MiB document of unclosed parts at once (a linear scan, not a backtracking pattern)', () => {
    const hostile = doc('<Part>'.repeat(350_000));
    expect(() => parseCompleteDocument(hostile, 10_000)).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });
});
