// Drives genmesh's OpenAI Images API shape with the official OpenAI client library, as any
// existing tool would: OpenAiClientTest runs it against a real edge. Usage:
//   node generate.mjs BASE_URL API_KEY OUT_DIR
// It asks for images as URLs (n=2) and as base64 (n=1), saves every PNG in OUT_DIR, asks for a
// model genmesh does not map, and prints one JSON line: what it got, for the test to check.
import OpenAI from 'openai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [baseURL, apiKey, outDir] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
mkdirSync(outDir, { recursive: true });

const report = { files: [], created: [], error: null };

const asUrls = await client.images.generate({
  model: 'dall-e-2', prompt: 'a lighthouse at dusk', n: 2, size: '384x256', response_format: 'url',
});
report.created.push(asUrls.created);
for (const [i, image] of asUrls.data.entries()) {
  const response = await fetch(image.url); // a share link: no key needed
  if (!response.ok) throw new Error(`GET ${image.url}: ${response.status}`);
  const file = join(outDir, `url-${i}.png`);
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  report.files.push({ file, size: '384x256' });
}

const asBase64 = await client.images.generate({
  model: 'dall-e-2', prompt: 'a lighthouse at dawn', size: '256x512', response_format: 'b64_json',
});
report.created.push(asBase64.created);
for (const [i, image] of asBase64.data.entries()) {
  const file = join(outDir, `b64-${i}.png`);
  writeFileSync(file, Buffer.from(image.b64_json, 'base64'));
  report.files.push({ file, size: '256x512' });
}

try {
  await client.images.generate({ model: 'no-such-model', prompt: 'a lighthouse' });
} catch (e) {
  if (!(e instanceof OpenAI.APIError)) throw e;
  report.error = { status: e.status, type: e.type, code: e.code, param: e.param, cls: e.constructor.name };
}
console.log(JSON.stringify(report));
