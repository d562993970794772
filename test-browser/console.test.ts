import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/observe/logger.js';
import { CONSOLE_CSP } from '../src/routes/console.js';
import { type Agent, startTestRelay, type TestRelay } from '../test/support/relay.js';
import { type ConsolePage, launchChromium, openConsole, signIn } from './support/browser.js';

// Every line the relay logs, to show the key never reaches one.
const logged: string[] = [];
const capture =
  (level: string) =>
  (fields: object, message = '') =>
    logged.push(`${level} ${message} ${JSON.stringify(fields)}`);
const logger: Logger = {
  debug: capture('debug'),
  info: capture('info'),
  warn: capture('warn'),
  error: capture('error'),
};

let relay: TestRelay;
let browser: Browser;
let n = 0;
const opened: ConsolePage[] = [];

beforeAll(async () => {
  [relay, browser] = await Promise.all([startTestRelay({}, { listen: true, logger }), launchChromium()]);
});

afterEach(async () => {
  const pages = opened.splice(0);
  for (const { context } of pages) await context.close();
  // No test may leave an uncaught error in its page.
  expect(pages.flatMap((p) => p.errors.map((e) => e.message))).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  await relay?.close();
});

const register = () => relay.registerAgent(`console.agent-${++n}`);

async function open(viewport?: { width: number; height: number }) {
  const page = await openConsole(browser, relay.baseUrl, viewport);
  opened.push(page);
  return page;
}

async function signedIn(agent: Agent) {
  const c = await open();
  await signIn(c.page, agent.apiKey, agent.id);
  await c.page.getByRole('heading', { name: 'Inbox' }).waitFor();
  return c;
}

const sendTo = async (from: Agent, to: Agent, overrides: Record<string, unknown> = {}) => {
  const r = await relay.send(from, to.id, overrides);
  expect(r.status).toBe(201);
  return r.body.message_id as string;
};

/** The list entry of a message, wherever the page shows it. */
const entry = (c: ConsolePage, id: string) => c.page.locator(`li[data-message-id="${id}"]`);

describe('the console', () => {
  it('signs in with an agent key from the keyboard, and a message sent through the API appears without a reload', async () => {
    const [sender, inbox] = [await register(), await register()];
    const c = await signedIn(inbox);
    // A reload would lose this mark.
    await c.page.evaluate(() => Object.assign(window, { stayed: true }));
    const id = await sendTo(sender, inbox, { subject: 'Deploy to staging?' });
    await entry(c, id).waitFor({ timeout: 10_000 });
    expect(await entry(c, id).textContent()).toContain('Deploy to staging?');
    expect(await c.page.evaluate(() => (window as { stayed?: boolean }).stayed)).toBe(true);
    await c.keep('inbox');
  });

  it('opens a message and shows its envelope and its whole thread', async () => {
    const [asker, worker] = [await register(), await register()];
    const request = await sendTo(asker, worker, { subject: 'Summarise the report', body: { pages: 12 } });
    const leased = await relay.pull(worker);
    const reply = await relay.call('POST', `/v1/agents/${worker.id}/messages/${request}/reply`, {
      token: worker.apiKey,
      body: { result: { summary: 'all good' } },
    });
    expect(reply.status).toBe(200);
    expect(leased.body.id).toBe(request);

    const c = await signedIn(asker);
    await entry(c, reply.body.message_id).getByRole('button').click();
    await c.page.getByRole('heading', { name: 'Summarise the report' }).waitFor();
    const thread = c.page.getByRole('region', { name: 'Thread' }).locator('li');
    await expect
      .poll(() => thread.evaluateAll((items) => items.map((li) => li.getAttribute('data-message-id'))), {
        timeout: 10_000,
      })
      .toEqual([request, reply.body.message_id]);
    expect(await c.page.locator('[data-field="Correlation id"]').textContent()).toBe(request);
    expect(await c.page.locator('pre.body').textContent()).toContain('all good');
    await c.keep('message-thread', { fullPage: true });
  });

  it('redrives a dead letter from the page, and the agent pulls it again', async () => {
    const [sender, inbox] = [await register(), await register()];
    const id = await sendTo(sender, inbox, { subject: 'Flaky job' });
    for (let attempt = 0; attempt < relay.deps.config.maxAttempts; attempt++) {
      const pulled = await relay.pull(inbox);
      expect(pulled.body.id).toBe(id);
      await relay.nack(inbox, id);
    }
    expect((await relay.stats(inbox)).dead).toBe(1);

    const c = await signedIn(inbox);
    await c.page.getByRole('button', { name: 'Dead letters' }).click();
    await entry(c, id).getByRole('checkbox').check();
    await c.keep('dead-letters');
    await c.page.getByRole('button', { name: 'Redrive selected' }).click();
    await c.page.getByRole('status').filter({ hasText: 'Redriven: 1' }).waitFor();
    const again = await relay.pull(inbox);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, attempts: 0 });
  });

  it('sends a reply composed in the page to the original sender, with the request’s correlation id', async () => {
    const [agent, person] = [await register(), await register()];
    const request = await sendTo(agent, person, {
      type: 'task.request',
      subject: 'Approve refund #4411?',
      body: { amount: 120 },
    });
    const c = await signedIn(person);
    await entry(c, request).getByRole('button').click();
    await c.page.getByLabel('Result (JSON object)').fill('{"approved": true, "by": "dana"}');
    await c.page.getByRole('button', { name: 'Send reply' }).click();
    await c.page.getByRole('status').filter({ hasText: 'Reply sent' }).waitFor();
    await c.keep('reply', { fullPage: true });

    const answer = await relay.pull(agent);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      type: 'task.result',
      from: `agent://${person.id}`,
      subject: 'Approve refund #4411?',
      correlation_id: request,
      body: { approved: true, by: 'dana' },
    });
  });

  it('shows the relay’s own message for a wrong key, and stays on the sign-in form', async () => {
    const agent = await register();
    const wrong = `${agent.apiKey.slice(0, -4)}AAAA`;
    const expected = await relay.call('GET', `/v1/agents/${agent.id}`, { token: wrong });
    expect(expected.status).toBe(401);

    const c = await open();
    await signIn(c.page, wrong, agent.id);
    const alert = c.page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(expected.body.error.message);
    expect(await c.page.getByLabel('Key').isVisible()).toBe(true);
    expect(await c.page.evaluate(() => sessionStorage.length)).toBe(0);
    await c.keep('sign-in-error');
  });

  it('watches an inbox without leasing: STATS leased stays 0 and the consumer still gets every message', async () => {
    const [sender, inbox] = [await register(), await register()];
    const c = await signedIn(inbox);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await sendTo(sender, inbox, { subject: `event ${i}` }));
      // Let the page see each one arrive before the next.
      await entry(c, ids[i] as string).waitFor({ timeout: 10_000 });
      expect((await relay.stats(inbox)).leased).toBe(0);
    }
    await expect
      .poll(() => c.page.locator('[data-stat="ready"]').textContent(), { timeout: 10_000 })
      .toBe('5');
    expect(await c.page.locator('[data-stat="leased"]').textContent()).toBe('0');
    expect(await relay.stats(inbox)).toMatchObject({ ready: 5, leased: 0 });

    const pulled: string[] = [];
    for (let r = await relay.pull(inbox); r.status === 200; r = await relay.pull(inbox))
      pulled.push(r.body.id);
    expect(pulled).toEqual(ids);
  });

  it('lets the admin list the agents and switch to one, in a narrow window', async () => {
    const agent = await register();
    const c = await open({ width: 390, height: 740 });
    await signIn(c.page, 'test-admin-key-0123456789');
    const row = c.page.locator(`tr[data-agent-id="${agent.id}"]`);
    await row.waitFor();
    await c.keep('agents-narrow');
    await row.getByRole('button', { name: agent.id }).click();
    await c.page.getByRole('heading', { name: 'Inbox' }).waitFor();
    expect(await c.page.locator(`[data-agent="${agent.id}"]`).count()).toBe(1);
    // Nothing is wider than the window.
    expect(await c.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('labels every control in every view, for screen readers', async () => {
    const [sender, inbox] = [await register(), await register()];
    await sendTo(sender, inbox, { subject: 'Label check' });
    const c = await signedIn(inbox);
    const unlabelled = () =>
      c.page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, button')]
          .filter((el) =>
            el instanceof HTMLButtonElement
              ? !(el.textContent?.trim() || el.getAttribute('aria-label'))
              : !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label')),
          )
          .map((el) => el.outerHTML),
      );
    for (const view of ['Inbox', 'Sent', 'Dead letters', 'Compose', 'Agents']) {
      await c.page.getByRole('button', { name: view, exact: true }).click();
      await expect.poll(() => c.page.evaluate(() => document.activeElement?.tagName)).toBe('H2');
      expect(await unlabelled()).toEqual([]);
    }
    await c.page.getByRole('button', { name: 'Inbox', exact: true }).click();
    await c.page.getByText('Label check').click();
    await c.page.getByRole('heading', { name: 'Label check' }).waitFor();
    expect(await unlabelled()).toEqual([]);
  });

  it('runs under a strict CSP and keeps the key out of URLs, logs and local storage', async () => {
    const agent = await register();
    const c = await open();
    const response = await c.page.request.get('/console');
    expect(response.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');

    // An injected inline script does not run.
    const ran = await c.page.evaluate(async () => {
      const violation = new Promise((resolve) =>
        document.addEventListener('securitypolicyviolation', resolve),
      );
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
      await violation;
      return (window as { injected?: boolean }).injected === true;
    });
    expect(ran).toBe(false);

    await signIn(c.page, agent.apiKey, agent.id);
    await c.page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await sendTo(agent, agent, { subject: 'note to self' });
    await c.page.getByRole('button', { name: 'Sent' }).click();
    await c.page.getByText('note to self').waitFor({ timeout: 10_000 });
    const storage = await c.page.evaluate(() => ({
      local: localStorage.length,
      session: Object.values(sessionStorage).join(''),
      url: location.href,
    }));
    expect(storage.local).toBe(0);
    expect(storage.session).toContain(agent.apiKey);
    expect(storage.url).not.toContain(agent.apiKey);
    expect(c.urls.length).toBeGreaterThan(3);
    expect(c.urls.filter((url) => url.includes(agent.apiKey))).toEqual([]);
    expect(c.urls.filter((url) => url.includes(encodeURIComponent(agent.apiKey)))).toEqual([]);
    expect(logged.filter((line) => line.includes(agent.apiKey))).toEqual([]);
    await c.keep('sent');

    await c.page.getByRole('button', { name: 'Sign out' }).click();
    await c.page.getByLabel('Key').waitFor();
    expect(await c.page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});
