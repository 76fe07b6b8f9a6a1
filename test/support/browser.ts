import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from './temp.js';

/** The Debian `chromium` package's binary; `.ci/run` installs it when missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where page screenshots of the test run go (git-ignored). */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot as test-results/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh user-data-dir (no cookies or cache shared between
 * tests) and opens one page. Console errors and failed page scripts are collected in
 * `errors` so a test can assert the page ran cleanly.
 */
export async function openBrowser(errors: string[] = []): Promise<TestBrowser> {
  const profile = tempDir('hookrelay-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
      timeout: 30_000,
    });
  } catch (error) {
    profile.cleanup();
    throw error;
  }
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return {
    context,
    page,
    screenshot: async (name) => {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const path = resolve(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: async () => {
      await context.close().catch(() => undefined);
      profile.cleanup();
    },
  };
}

// Page-side checks written as expressions, so tests need no DOM types.

/** The text of the element that has keyboard focus. */
export function focusedText(page: Page): Promise<string | null> {
  return page.evaluate('document.activeElement ? document.activeElement.textContent : null') as Promise<string | null>;
}

/** Marks the current document; `isSameDocument` is false after any reload or navigation away. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate('window.hookrelayTestMark = "same-document"');
}

export async function isSameDocument(page: Page): Promise<boolean> {
  return (await page.evaluate('window.hookrelayTestMark')) === 'same-document';
}

/** What page scripts can read of the cookies (an HttpOnly cookie is not there). */
export function scriptVisibleCookies(page: Page): Promise<string> {
  return page.evaluate('document.cookie') as Promise<string>;
}
