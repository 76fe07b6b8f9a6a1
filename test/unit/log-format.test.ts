import { describe, expect, it } from 'vitest';
import { logFormatFrom } from '../../src/config/log-format.js';
import { isHookrelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';

function capture() {
  const written: string[] = [];
  return { written, destination: { write: (line: string) => void written.push(line) } };
}

describe('LOG_FORMAT', () => {
  it.each([
    [undefined, 'json'],
    ['', 'json'],
    ['json', 'json'],
    ['pretty', 'pretty'],
    ['PRETTY', 'pretty'],
  ])('%j -> %s', (value, format) => {
    expect(logFormatFrom(value === undefined ? {} : { LOG_FORMAT: value })).toBe(format);
  });

  it('refuses any other value with a config error naming it', () => {
    try {
      logFormatFrom({ LOG_FORMAT: 'text' });
      expect.unreachable();
    } catch (error) {
      expect(isHookrelayError(error, 'HOOKRELAY_CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toBe('LOG_FORMAT: expected one of "json", "pretty", got "text"');
    }
  });

  it('pretty: one human line per record, extra keys inline, secrets still redacted', () => {
    const { written, destination } = capture();
    const logger = createLogger({ format: 'pretty', destination });
    logger.child({ destination: 'app', deliveryId: 'dlv_1' }).warn({ headers: { authorization: 'Bearer hunter2' } }, 'attempt failed');
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN \(hookrelay\/\d+\): attempt failed \{.*"destination":"app".*\}\n$/);
    expect(written[0]).toContain('[redacted]');
    expect(written[0]).not.toContain('hunter2');
  });

  it('json stays the default: one JSON object per line', () => {
    const { written, destination } = capture();
    createLogger({ format: 'json', destination }).info({ source: 'cerebrium' }, 'accepted');
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 30, msg: 'accepted', source: 'cerebrium', name: 'hookrelay' });
  });
});
