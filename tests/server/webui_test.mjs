// The web chat page in a real browser: Debian's chromium, headless, driven by playwright-core (npm), against
// `strata serve` (run_with_server.sh sets STRATA_URL). Loads /, gives the API key when the page asks
// ($STRATA_API_KEY), sends a message, watches the answer stream in and grow, stops it mid-answer, checks the
// tokens/s line, reloads and reopens the conversation from the list; then checks the Markdown renderer (markup
// in an answer stays text, quotes nested deep), that an unanswered turn is left out of the next request, and
// that a cut-off stream shows as one and a double send makes one request. Saves a screenshot to $WEBUI_SCREENSHOT.
// Every wait is for an event in the page, with generous timeouts (sanitizer builds decode slowly); nothing is
// asserted about how long anything took. Exit code 77 (CTest's skip) when chromium is not installed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  console.log(`SKIP: ${executablePath} not found (apt-get install chromium, or run scripts/setup.sh)`);
  process.exit(77);
}
const require = createRequire(process.env.NODE_PATH + '/');
const { chromium } = require('playwright-core');

const url = process.env.STRATA_URL;
const apiKey = process.env.STRATA_API_KEY || '';
const screenshot = process.env.WEBUI_SCREENSHOT;
const question = 'Tell me a long story about a dog.';
const WAIT = { timeout: 120_000 };

// The text of the last assistant answer on the page.
const answerText = page => page.evaluate(() => {
  const all = document.querySelectorAll('[data-testid="assistant-content"]');
  return all.length ? all[all.length - 1].textContent : null;
});

const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  page.setDefaultTimeout(WAIT.timeout);
  const problems = [];
  page.on('pageerror', e => problems.push('page error: ' + e.message));
  page.on('console', m => {  // the browser logs the expected 401 of the first v1/models as an error
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push('console error: ' + m.text());
  });
  // The page may talk to its own server only.
  page.on('request', r => { if (!r.url().startsWith(url + '/')) problems.push('request elsewhere: ' + r.url()); });

  await page.goto(url + '/');
  if (apiKey) {
    // GET v1/models answered 401: the page asks for the key.
    await page.getByTestId('key-dialog').waitFor({ state: 'visible' });
    await page.getByTestId('api-key').fill(apiKey);
    await page.getByTestId('key-save').click();
    await page.getByTestId('key-dialog').waitFor({ state: 'hidden' });
  }
  // The model's id from v1/models in the header.
  await page.waitForFunction(() => /context \d+/.test(document.querySelector('[data-testid="model"]').textContent),
                             null, WAIT);

  // An answer long enough to stop: greedy, up to 8000 tokens (gen_webui_model.sh's model does not end sooner;
  // that takes some 20 s on 2 cores, longer in sanitizer builds).
  await page.locator('#settings summary').click();
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('max-tokens').fill('8000');
  await page.getByTestId('prompt').fill(question);
  await page.getByTestId('prompt').press('Enter');

  await page.getByTestId('stop').waitFor({ state: 'visible' });
  assert.equal(await page.getByTestId('user-content').textContent(), question);
  // Streaming: text appears, then there is more of it, while the answer is still going.
  await page.waitForFunction(() => {
    const all = document.querySelectorAll('[data-testid="assistant-content"]');
    return all.length && all[all.length - 1].textContent.length > 0;
  }, null, WAIT);
  const early = await answerText(page);
  await page.waitForFunction(n => {
    const all = document.querySelectorAll('[data-testid="assistant-content"]');
    return all[all.length - 1].textContent.length > n;
  }, early.length, WAIT);
  assert.ok(await page.getByTestId('stop').isVisible(), 'still streaming when Stop is pressed');

  await page.getByTestId('stop').click();
  await page.getByTestId('stop').waitFor({ state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('[data-testid="message-assistant"]:last-child [data-testid="stats"]'),
                             null, WAIT);
  const stopped = await answerText(page);
  const stats = await page.getByTestId('stats').last().textContent();
  console.log('stats line:', stats);
  assert.match(stats, /^\d+ tokens · \d+(\.\d)? tokens\/s · first token \d+\.\d\d s · stopped$/);
  assert.ok(stopped.length > early.length, 'the answer grew');
  assert.ok(!stats.includes('cut at max tokens'), 'stopped before max tokens');
  assert.equal(await page.getByTestId('send').isEnabled(), true);
  // Stopped means stopped: the server sees the connection close and aborts the request (not finishing it at
  // max tokens), and no more text arrives.
  await page.waitForFunction(async () => {
    const metrics = await (await fetch('metrics')).text();
    return /^vllm:request_success_total\{[^}]*finished_reason="abort"\} 1(\.0)?$/m.test(metrics);
  }, null, { ...WAIT, polling: 200 });
  assert.equal(await answerText(page), stopped, 'no text after Stop');

  // The conversation survives a reload: pick it from the list (a new chat is open) and find both messages.
  await page.getByTestId('new-chat').click();
  await page.reload();
  if (apiKey) await page.waitForFunction(() => /context \d+/.test(document.querySelector('[data-testid="model"]').textContent));
  assert.equal(await page.getByTestId('key-dialog').isVisible(), false, 'the stored key is used after a reload');
  assert.equal(await page.getByTestId('message-user').count(), 0);
  const item = page.getByTestId('conversation').filter({ hasText: question });
  await item.waitFor();
  await item.click();
  await page.getByTestId('message-assistant').waitFor();
  assert.equal(await page.getByTestId('user-content').textContent(), question);
  assert.equal(await answerText(page), stopped, 'the partial answer was kept');
  assert.equal(await page.getByTestId('stats').textContent(), stats);

  // The screenshot shows the real conversation; the checks below open others.
  if (screenshot) {
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
    console.log('screenshot:', screenshot);
  }

  // Markdown as the page renders answers (the tiny model writes none, so the page's own renderer is given a
  // known answer): headings, emphasis, code spans, lists, links, fenced code with its language and a Copy
  // button; markup in model output stays text (no element made of it, no javascript: link).
  const md = await page.evaluate(() => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown([
      '# Title', 'Some **bold**, *italic* and `x < y` text.', '',
      '- one', '- two', '', '1. first', '2. second', '',
      '```cpp', 'if (a < b && c) return "<b>";', '```', '',
      '[site](https://example.com/a) [bad](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)>',
    ].join('\n'));
    const text = sel => [...div.querySelectorAll(sel)].map(e => e.textContent);
    return {
      h1: text('h1'), strong: text('strong'), em: text('em'), code: text('p code'), ul: text('ul li'),
      ol: text('ol li'), lang: text('.codeblock .lang span'), copy: text('.codeblock button.copy'),
      block: text('.codeblock pre code'), links: [...div.querySelectorAll('a')].map(a => a.getAttribute('href')),
      unsafe: div.querySelectorAll('script, img, [onerror]').length, last: div.lastElementChild.textContent,
    };
  });
  assert.deepEqual(md.h1, ['Title']);
  assert.deepEqual(md.strong, ['bold']);
  assert.deepEqual(md.em, ['italic']);
  assert.deepEqual(md.code, ['x < y']);
  assert.deepEqual(md.ul, ['one', 'two']);
  assert.deepEqual(md.ol, ['first', 'second']);
  assert.deepEqual(md.lang, ['cpp']);
  assert.deepEqual(md.copy, ['Copy']);
  assert.deepEqual(md.block, ['if (a < b && c) return "<b>";']);
  assert.deepEqual(md.links, ['https://example.com/a']);
  assert.equal(md.unsafe, 0, 'markup in an answer made elements');
  assert.ok(md.last.includes('<script>alert(1)</script>') && md.last.includes('<img src=x onerror=alert(1)>'),
            'markup in an answer is shown as text: ' + md.last);

  // Quotes nested thousands deep (a model repeating '>') render without exhausting the stack, 8 levels at most.
  const depth = await page.evaluate(() => {
    const div = document.createElement('div');
    div.innerHTML = renderMarkdown('>'.repeat(20000) + ' deep');
    let n = 0;
    for (let e = div.querySelector('blockquote'); e; e = e.querySelector(':scope > blockquote')) n++;
    return n;
  });
  assert.equal(depth, 8);

  // A turn that got no answer is left out of the next request with its question, so the turns still alternate.
  const sent = await page.evaluate(() => {
    const reply = { role: 'assistant', content: '' };
    const conv = { messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'A' },
                              { role: 'user', content: 'failed' }, { role: 'assistant', content: '', error: 'x' },
                              { role: 'user', content: 'b' }, reply] };
    return requestBody(conv, reply).messages.map(m => m.role + ':' + m.content);
  });
  assert.deepEqual(sent, ['user:a', 'assistant:A', 'user:b']);

  // A stream that ends without [DONE] or a finish reason shows as cut off; two sends in a row while the model
  // list loads make one request (the page is given that stream instead of the server's).
  await page.route(url + '/v1/chat/completions', route => route.fulfill({
    status: 200, contentType: 'text/event-stream', body: 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
  }));
  await page.getByTestId('new-chat').click();
  const cut = await page.evaluate(async () => {
    state.model = null;
    $('prompt').value = 'cut';
    const first = send();
    $('prompt').value = 'cut';
    await Promise.all([first, send()]);
    return current().messages.map(m => ({ role: m.role, content: m.content, error: m.error || '' }));
  });
  await page.unroute(url + '/v1/chat/completions');
  assert.equal(cut.length, 2, JSON.stringify(cut));
  assert.equal(cut[1].content, 'Hi');
  assert.match(cut[1].error, /cut off/);
  assert.match(await page.getByTestId('error').last().textContent(), /cut off/);

  assert.deepEqual(problems, []);
  console.log(`web page: streamed ${stopped.length} characters, stopped, reopened after a reload`);
} finally {
  await browser.close();
}
