// Reading a request body: a size limit checked before and while reading (a client cannot make the
// server buffer more than `limit` bytes), then JSON.parse with an OpenAI-style 400 when it fails.
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest } from './errors.js';

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => new ApiError(413, `request body is larger than the server's limit of ${limit} bytes`, { code: 'request_too_large' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw badRequest('request body is empty: send a JSON object', null, 'empty_body');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`We could not parse the JSON body of your request (${(e as Error).message}). The body must be a JSON object.`, null, 'invalid_json');
  }
}
