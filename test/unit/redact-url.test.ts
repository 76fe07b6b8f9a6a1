import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/config/redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['https://app.example.com/hooks', 'https://app.example.com/hooks'],
    ['https://user:hunter2@app.example.com/hooks', 'https://user:***@app.example.com/hooks'],
    ['https://user@app.example.com/hooks', 'https://user@app.example.com/hooks'],
    ['https://app.example.com/hooks?token=abc123&sig=def', 'https://app.example.com/hooks?token=***&sig=***'],
    ['https://app.example.com/hooks?region=eu&api_key=k', 'https://app.example.com/hooks?region=***&api_key=***'],
    ['https://app.example.com/hooks?bare', 'https://app.example.com/hooks?bare=***'],
    ['https://app.example.com/hooks#access_token=t', 'https://app.example.com/hooks#***'],
    ['http://127.0.0.1:3000/x?a=1&a=2', 'http://127.0.0.1:3000/x?a=***&a=***'],
    ['postgres://hookrelay:p%40ss@db.internal:5432/relay?sslmode=require&password=x', 'postgres://hookrelay:***@db.internal:5432/relay?sslmode=***&password=***'],
    ['postgresql://db/relay', 'postgresql://db/relay'],
    ['not a url at all', '***'],
  ])('%s -> %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it('never contains the secret parts of its input', () => {
    const secrets = ['s3cr3t-pass', 'tok-9f8e7d', 'sig-abc'];
    const shown = redactUrl(`https://u:${secrets[0]}@h.example/p?token=${secrets[1]}&x=${encodeURIComponent(secrets[2]!)}`);
    for (const secret of secrets) expect(shown).not.toContain(secret);
  });
});
