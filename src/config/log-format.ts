import { HookrelayError } from '../errors.js';

/** `json`: one JSON object per line (the default, for log shippers). `pretty`: human lines for development. */
export type LogFormat = 'json' | 'pretty';

const FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * `LOG_FORMAT` from the environment; unset or empty means `json`. Any other value is a config
 * error (exit 2) rather than a silent fallback: a typo would otherwise look like pretty mode
 * being broken.
 */
export function logFormatFrom(env: NodeJS.ProcessEnv): LogFormat {
  const value = env.LOG_FORMAT ?? '';
  if (value === '') return 'json';
  const format = FORMATS.find((known) => known === value.toLowerCase());
  if (!format) {
    throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', `LOG_FORMAT: expected one of "json", "pretty", got ${JSON.stringify(value)}`);
  }
  return format;
}
