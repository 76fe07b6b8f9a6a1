import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { HookrelayError } from '../errors.js';
import { configSchema } from './schema.js';
import type { Config } from './resolved-config.js';
import { interpolateEnv, type DefaultedVariable, type InterpolateOptions } from './interpolate.js';
import { echoValue } from './echo-value.js';
import { formatKeyPath } from './key-path.js';
import { closest, knownKeysAt } from './suggest.js';
import { configWarnings } from './warnings.js';

export const DEFAULT_CONFIG_PATH = 'config/hookrelay.yaml';

export type { Config, DestinationConfig, SourceConfig } from './resolved-config.js';

export interface LoadedConfig {
  config: Config;
  /** Absolute or relative path the config was read from. */
  path: string;
  /** `${VAR:-default}` substitutions that fell back to their default, with the key path they fill. */
  defaulted: readonly DefaultedVariable[];
  /** Valid but almost certainly unintended settings (see configWarnings), one sentence each. */
  warnings: readonly string[];
}

/** `--config PATH`, else `$HOOKRELAY_CONFIG`, else `config/hookrelay.yaml`. */
export function resolveConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? (env.HOOKRELAY_CONFIG || DEFAULT_CONFIG_PATH);
}

/**
 * Reads, interpolates and validates the config file. Read-only CLI commands pass
 * `{ secretsRequired: false }`: they never verify or sign, so an unset secret must not stop them.
 */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env, options: InterpolateOptions = {}): LoadedConfig {
  if (!existsSync(path)) {
    throw new HookrelayError('HOOKRELAY_CONFIG_NOT_FOUND', `config file not found: ${path}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new HookrelayError('HOOKRELAY_CONFIG_NOT_FOUND', `cannot read config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return { ...parseConfigText(text, env, options), path };
}

export function parseConfigText(text: string, env: NodeJS.ProcessEnv = process.env, options: InterpolateOptions = {}): Omit<LoadedConfig, 'path'> {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message.split('\n')[0] : String(error);
    const at = error instanceof YAMLParseError ? lineAndColumn(text, error.pos[0]) : '';
    throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', `config is not valid YAML${at}: ${detail}`, { cause: error });
  }
  if (raw === null || raw === undefined) raw = {};
  const { value, defaulted, emptied } = interpolateEnv(raw, env, options);
  const config = resolveConfig(value);
  return { config, defaulted, warnings: configWarnings(config, emptied) };
}

/** Validates an already-interpolated config object, applies defaults and freezes it. */
export function resolveConfig(raw: unknown): Config {
  // reportInput: tells a missing key (input undefined) from a present one of the wrong type.
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    // Every error at once, on one line: fixing them one run at a time is slow.
    const issues = result.error.issues.map((issue) => formatIssue(issue, raw));
    const message = issues.length === 1 ? issues[0]! : `${issues.length} config errors: ${issues.join('; ')}`;
    throw new HookrelayError('HOOKRELAY_CONFIG_INVALID', message, { details: { issues } });
  }
  const parsed = result.data;
  const allSources = parsed.sources.map((source) => source.name);
  const config = {
    ...parsed,
    destinations: parsed.destinations.map((destination) => ({ ...destination, sources: destination.sources ?? allSources })),
  };
  return deepFreeze(config) as Config;
}

/**
 * One error: the key path, what was expected, and what it got (secrets masked, see echoValue),
 * so the operator sees the value a `${VAR}` put there as well as the rule it broke.
 */
function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return issue.keys
      .map((key) => {
        const suggestion = closest(key, known);
        return `${formatKeyPath([...issue.path, key])}: unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
      })
      .join('; ');
  }
  let message = issue.message;
  if (issue.code === 'invalid_type') {
    const expected = issue.expected === 'int' ? 'an integer' : issue.expected;
    if (issue.input === undefined) message = `required (expected ${expected})`;
    // zod's own wording starts with "Invalid input"; a message the schema set (e.g. "expected a positive integer") is kept.
    else if (message.startsWith('Invalid input')) message = `expected ${expected}`;
  } else if (issue.code === 'invalid_value' && 'values' in issue) {
    // The value is echoed: enum keys (scheme, level, answer) never hold a secret.
    const got = typeof issue.input === 'string' ? issue.input : undefined;
    const suggestion = got === undefined ? null : closest(got, issue.values.map(String));
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` +
      (got === undefined ? '' : `, got ${JSON.stringify(got)}`) + (suggestion ? ` (did you mean "${suggestion}"?)` : '');
    return `${formatKeyPath(issue.path)}: ${message}`;
  } else if (issue.code === 'invalid_key') {
    // A record key (a header name) that failed its own schema: its message says why, the path shows the key.
    return `${formatKeyPath(issue.path)}: ${issue.issues[0]?.message ?? message}`;
  } else if (issue.code === 'invalid_union') {
    message = 'expected a duration in ms or a string like "30s", "5m", "2h"';
  }
  return `${formatKeyPath(issue.path)}: ${message}${echoValue(raw, issue.path, message, issue.code === 'invalid_type')}`;
}

/** Freezes an object and everything it holds (the config; a copy of it in another thread). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/** ` at line L, column C` of a character offset in the YAML text (1-based, as editors count). */
function lineAndColumn(text: string, offset: number | undefined): string {
  if (offset === undefined || offset < 0) return '';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}
