import { S3Error } from './s3-error';
/**
 * The S3 API's XML documents, written by hand: a handful of flat shapes, and an XML library
 * would add a dependency to escape five characters. Text is escaped for XML 1.0; characters XML
 * 1.0 cannot carry at all (C0 controls) are percent-encoded instead, which is what S3's
 * `encoding-type=url` exists for.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

// Characters XML 1.0 cannot carry; matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlText(s: string): string {
  return s
    .replace(/[&<>"']/g, (c) => ESCAPES[c])
    .replace(NOT_XML, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`);
}

/** One element per entry; `undefined` values are left out, arrays repeat the element. */
export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => render(name, v)).join('');
  if (typeof value === 'object')
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => render(k, v))
      .join('')}</${name}>`;
  return `<${name}>${xmlText(String(value))}</${name}>`;
}

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A whole document: declaration, root element in S3's namespace. */
export function s3Document(root: string, body: XmlNode, namespaced = true): string {
  const inner = Object.entries(body)
    .map(([k, v]) => render(k, v))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${namespaced ? ` xmlns="${S3_NS}"` : ''}>${inner}</${root}>`;
}

/** A small XML request document (DeleteObjects, CompleteMultipartUpload), read whole up to `max` bytes. */
export async function readSmallDocument(raw: AsyncIterable<unknown>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of raw) {
    n += (c as Buffer).length;
    if (n > max) throw new S3Error(400, 'MalformedXML', 'The XML you provided was larger than this gateway accepts');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
