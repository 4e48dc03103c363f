// The official `openai` npm client against `strata serve`'s /v1/embeddings: shapes, unit length, the same input
// twice gives the same vector, a batch equals its inputs one by one, base64 (the client's default, which it
// decodes itself) equals float, token-id inputs, and the errors. Run by CTest through run_with_server.sh.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PATH + '/');
const OpenAI = require('openai').default ?? require('openai');
const client = new OpenAI({ baseURL: process.env.STRATA_URL + '/v1', apiKey: 'test-key' });
const model = (await client.models.list()).data[0].id;

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

const one = await client.embeddings.create({ model, input: 'The cat sat on the mat.', encoding_format: 'float' });
assert.equal(one.object, 'list');
assert.equal(one.model, model);
assert.equal(one.data.length, 1);
assert.equal(one.data[0].object, 'embedding');
assert.equal(one.data[0].index, 0);
const dim = one.data[0].embedding.length;
assert.ok(dim > 0, 'a non-empty vector');
assert.ok(Math.abs(norm(one.data[0].embedding) - 1) < 1e-5, `unit length, got ${norm(one.data[0].embedding)}`);
assert.ok(one.usage.prompt_tokens > 0 && one.usage.total_tokens === one.usage.prompt_tokens);
console.log('one: dim', dim, 'tokens', one.usage.prompt_tokens);

const again = await client.embeddings.create({ model, input: 'The cat sat on the mat.', encoding_format: 'float' });
assert.deepEqual(again.data[0].embedding, one.data[0].embedding, 'the same input gives the same vector');

const texts = ['The cat sat on the mat.', 'Hello', 'A much longer sentence about the weather in spring.'];
const batch = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
assert.equal(batch.data.length, texts.length);
for (const [i, text] of texts.entries()) {
  assert.equal(batch.data[i].index, i);
  const single = await client.embeddings.create({ model, input: text, encoding_format: 'float' });
  assert.ok(maxDiff(batch.data[i].embedding, single.data[0].embedding) < 1e-5, `batch item ${i} equals one by one`);
}
assert.ok(maxDiff(batch.data[0].embedding, batch.data[1].embedding) > 1e-2, 'different texts, different vectors');
console.log('batch: ok');

// Without encoding_format the client asks for base64 and decodes the float32 bytes itself.
const b64 = await client.embeddings.create({ model, input: texts });
for (const [i, item] of b64.data.entries())
  assert.deepEqual(Array.from(item.embedding), batch.data[i].embedding, `base64 item ${i} equals float`);
console.log('base64: ok');

const ids = await client.embeddings.create({ model, input: [[1, 450, 635], [1, 543]], encoding_format: 'float' });
assert.equal(ids.data.length, 2);
assert.equal(ids.usage.prompt_tokens, 5);

await assert.rejects(client.embeddings.create({ model, input: [] }), (err) => err.status === 400);
await assert.rejects(client.embeddings.create({ model, input: [[1, 99999999]] }), (err) => err.status === 400);
await assert.rejects(client.embeddings.create({ model, input: 'x', dimensions: 3 }), (err) => err.status === 400);
await assert.rejects(client.embeddings.create({ model: 'no-such-model', input: 'x' }), (err) => err.status === 404);
const unauthorized = new OpenAI({ baseURL: process.env.STRATA_URL + '/v1', apiKey: 'wrong' });
await assert.rejects(unauthorized.embeddings.create({ model, input: 'x' }), (err) => err.status === 401);
console.log('errors: ok');
