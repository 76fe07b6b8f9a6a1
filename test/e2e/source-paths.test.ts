import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.mjs';
import { relayConfig, startRelay, writeConfig, type RelayProcess } from '../support/relay.mjs';
import { hmacSha256Request } from '../support/signed-request.js';
import { tempDir } from '../support/temp.js';
import { rawExchange, rawRequest } from '../support/raw-http.js';

/**
 * A request reaches exactly the source whose path it spells, or gets 404: an unsigned POST must
 * never land on an unsigned source by respelling a signed source's path (case, slashes,
 * percent-encoding, dot segments), nor on a signed one by respelling it.
 */
const SECRET = 'partner-secret';

describe('source paths are matched exactly', () => {
  let dir: ReturnType<typeof tempDir>;
  let relay: RelayProcess;
  let configPath: string;

  beforeAll(async () => {
    dir = tempDir('hookrelay-paths-');
    configPath = writeConfig(
      dir.path,
      relayConfig(dir.path, {
        sources: [
          { name: 'partner', path: '/hooks/partner', verify: { scheme: 'hmac-sha256', secrets: [SECRET] } },
          { name: 'open', path: '/hooks/open', verify: { scheme: 'none' } },
        ],
      }),
    );
    relay = await startRelay(configPath);
  });

  afterAll(async () => {
    await relay?.kill();
    dir?.cleanup();
  });

  const unsigned = (path: string) => rawExchange(relay.port, rawRequest('POST', path, [['content-type', 'application/json']], Buffer.from(`{"path":"${path}"}`)));
  const storedEvents = async () => {
    const result = await runCli(['stats', '--json', '--config', configPath]);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { events: number }).events;
  };

  it.each([
    '/hooks/Open',
    '/HOOKS/open',
    '/hooks/open/',
    '//hooks/open',
    '/hooks//open',
    '/hooks/%6Fpen',
    '/hooks/%6fpen',
    '/hooks/./open',
    '/hooks/x/../open',
    '/hooks/Partner',
    '/hooks/partner/',
    '/hooks/%70artner',
    '//hooks/partner',
  ])('unsigned POST %s: 404, nothing stored', async (path) => {
    const before = await storedEvents();
    const outcome = await unsigned(path);
    expect(outcome.status).toBe(404);
    expect(await storedEvents()).toBe(before);
  });

  it('the exact spellings: the unsigned source takes it (202), the signed one refuses it (401) and takes a signed one (202)', async () => {
    expect((await unsigned('/hooks/open')).status).toBe(202);
    expect((await unsigned('/hooks/partner')).status).toBe(401);
    const signed = hmacSha256Request({ secret: SECRET, body: '{"ok":true}' });
    expect((await rawExchange(relay.port, rawRequest('POST', '/hooks/partner', Object.entries(signed.headers), signed.body))).status).toBe(202);
  });
});
