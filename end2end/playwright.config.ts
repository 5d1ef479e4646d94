import { defineConfig } from '@playwright/test';

// The server is started by scripts/test (or by `webServer` below when run alone),
// on its own port and a throwaway SQLite database.
const port = process.env.ROSTER_E2E_PORT ?? '3100';
// By name, not address: passkeys belong to a domain, and browsers refuse an IP
// address for them (scripts/e2e-server sets ROSTER_PUBLIC_URL to match).
const baseURL = `http://localhost:${port}`;
// A second server where new accounts wait for an administrator's approval
// (ROSTER_REGISTRATION=approval): approval.spec.ts runs against it.
export const approvalPort = String(Number(port) + 1);

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          // Debian's Chromium; Playwright never downloads a browser here.
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            // localhost is the loopback address the server listens on, never ::1.
            '--host-resolver-rules=MAP localhost 127.0.0.1',
          ],
        },
      },
    },
  ],
  webServer: [
    {
      command: process.env.ROSTER_E2E_SERVER ?? '../scripts/e2e-server',
      url: `http://127.0.0.1:${port}/api/me`,
      // /api/me answers 401 when signed out; any answer means the server is up.
      ignoreHTTPSErrors: true,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      command: process.env.ROSTER_E2E_SERVER ?? '../scripts/e2e-server',
      env: { ROSTER_E2E_PORT: approvalPort, ROSTER_E2E_REGISTRATION: 'approval' },
      url: `http://127.0.0.1:${approvalPort}/api/me`,
      ignoreHTTPSErrors: true,
      reuseExistingServer: !process.env.CI,
      timeout: 120_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
