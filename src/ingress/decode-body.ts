import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions, type BrotliOptions } from 'node:zlib';

const decoders: Record<string, (body: Buffer, options: ZlibOptions & BrotliOptions) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  br: promisify(brotliDecompress),
  deflate: inflateEitherWrapping,
};

const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

/** `deflate` is meant to be zlib-wrapped (RFC 9110), but some senders send the raw stream. */
async function inflateEitherWrapping(body: Buffer, options: ZlibOptions): Promise<Buffer> {
  try {
    return await inflateAsync(body, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw error;
    return inflateRawAsync(body, options);
  }
}

/**
 * Undoes a `Content-Encoding` (`gzip`, `x-gzip`, `deflate`, `br`, `identity`, or a list of
 * them, applied in the order listed) to READ the body; what is stored and delivered stays the
 * received bytes. Every step's output is bounded by `maxBytes`, so a small compressed body
 * that expands enormously (a zip bomb) is refused, never held in memory. Rejects for an
 * unknown coding, corrupt data or output over `maxBytes`.
 */
export async function decodeContentEncoding(body: Buffer, contentEncoding: string, maxBytes: number): Promise<Buffer> {
  const codings = contentEncoding
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  let decoded = body;
  for (const coding of codings.reverse()) {
    const decode = decoders[coding];
    if (!decode) throw new Error(`unsupported Content-Encoding ${JSON.stringify(coding)}`);
    decoded = await decode(decoded, { maxOutputLength: maxBytes });
  }
  return decoded;
}
