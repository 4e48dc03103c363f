// The official `openai` npm client against `strata serve`: chat, streaming chat and completions.
// Run by CTest through run_with_server.sh (STRATA_URL set); NODE_PATH points at the scratch install.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PATH + '/');
const OpenAI = require('openai').default ?? require('openai');

const client = new OpenAI({ baseURL: process.env.STRATA_URL + '/v1', apiKey: 'test-key' });

const models = await client.models.list();
const model = models.data[0].id;
assert.ok(model, 'a model id');

const chat = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me a story about a dog.' }], max_tokens: 16, temperature: 0,
});
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
assert.equal(typeof chat.choices[0].message.content, 'string');
assert.ok(chat.usage.completion_tokens > 0 && chat.usage.completion_tokens <= 16);
console.log('chat:', JSON.stringify(chat.choices[0].message.content));

const stream = await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Tell me a story about a dog.' }], max_tokens: 16, temperature: 0,
  stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let finish = null;
let usage = null;
for await (const chunk of stream) {
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta?.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
assert.equal(streamed, chat.choices[0].message.content, 'streamed text equals the non-streamed text');
assert.ok(finish === 'stop' || finish === 'length');
assert.equal(usage.completion_tokens, chat.usage.completion_tokens);
console.log('stream: ok,', usage.completion_tokens, 'tokens');

const completion = await client.completions.create({
  model, prompt: 'Once upon a time', max_tokens: 12, temperature: 0, stop: ['\n\n'],
});
assert.equal(completion.object, 'text_completion');
assert.equal(typeof completion.choices[0].text, 'string');
assert.ok(['stop', 'length'].includes(completion.choices[0].finish_reason));
console.log('completion:', JSON.stringify(completion.choices[0].text));

await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
  (err) => err.status === 404);
const unauthorized = new OpenAI({ baseURL: process.env.STRATA_URL + '/v1', apiKey: 'wrong' });
await assert.rejects(unauthorized.models.list(), (err) => err.status === 401);
console.log('errors: ok');
