import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** The machine's Chromium (Debian's `chromium`; `.ci/run` installs it): no browser is downloaded. */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {}
  }
  throw new Error(
    'no Chromium found: install Debian’s chromium (apt-get install chromium) or set CHROMIUM_PATH',
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath() });
}

// Where each test keeps its screenshot; `npm run console:screenshots` points it at docs/.
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ?? '.admp/console-screenshots';

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and unhandled rejections in the page. */
  errors: Error[];
  /** Every URL the page requested. */
  urls: string[];
  /** Saves what the page shows now as `<name>.png` (the whole page with `fullPage`). */
  keep: (name: string, options?: { fullPage?: boolean }) => Promise<void>;
}

export async function openConsole(
  browser: Browser,
  baseUrl: string,
  viewport = { width: 960, height: 640 },
): Promise<ConsolePage> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const errors: Error[] = [];
  const urls: string[] = [];
  page.on('pageerror', (error) => errors.push(error));
  page.on('request', (request) => urls.push(request.url()));
  await page.goto('/console');
  return {
    page,
    context,
    errors,
    urls,
    keep: async (name, options) => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), ...options });
    },
  };
}

/** Signs in through the form, with the keyboard only: type, Tab, type, Enter. */
export async function signIn(page: Page, key: string, agentId?: string) {
  await page.getByLabel('Agent id').focus();
  if (agentId) await page.keyboard.type(agentId);
  await page.keyboard.press('Tab');
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
}
