// The headless Chromium the dashboard test drives, found without a system package or a download:
// CHROMIUM_PATH when set (an explicit choice wins); else the Chromium that the @sparticuz/chromium
// devDependency carries compressed inside the npm package (Linux x64; unpacked once into the temp
// folder, so `npm ci` alone is enough); else a Chromium or Chrome installed on the system.
import { existsSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { chromium as playwright, type Browser } from 'playwright-core';

const SYSTEM_BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Which browser, and with which arguments. */
export async function findChromium(): Promise<{ executablePath: string; args: string[]; source: string }> {
  if (process.env.CHROMIUM_PATH)
    return { executablePath: process.env.CHROMIUM_PATH, args: ['--no-sandbox'], source: 'CHROMIUM_PATH' };
  if (platform() === 'linux' && arch() === 'x64') {
    const { default: packaged } = await import('@sparticuz/chromium');
    // Its flags are the ones that build needs (single process, no GPU, …), not a choice of ours.
    return { executablePath: await packaged.executablePath(), args: packaged.args, source: '@sparticuz/chromium' };
  }
  const system = SYSTEM_BROWSERS.find((p) => existsSync(p));
  if (system) return { executablePath: system, args: ['--no-sandbox'], source: system };
  throw new Error(
    `no Chromium for the dashboard test: @sparticuz/chromium ships one for Linux x64 only (this is ${platform()} ${arch()}); ` +
      `install Chromium or Chrome, or set CHROMIUM_PATH to one`,
  );
}

export async function launchChromium(): Promise<Browser> {
  const { executablePath, args } = await findChromium();
  return playwright.launch({ executablePath, args, headless: true });
}
