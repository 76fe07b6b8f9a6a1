import { HookrelayError } from '../errors.js';
import { formatKeyPath } from './key-path.js';

export interface DefaultedVariable {
  /** Key path of the string that used the default, e.g. `sources[0].verify.secrets[0]`. */
  path: string;
  variable: string;
  /** The key holds a secret (signature secret, token, signing secret, header value): a default there is a development value. */
  secret: boolean;
}

const SECRET_KEY_PATH = /(^|\.)(secrets\[\d+\]|token|signingSecret|signing\.secret|headers\.[^.]+)$/;

/**
 * Stands in for an unset secret when the command never uses secrets (read-only CLI commands):
 * valid wherever a secret may stand (a Standard Webhooks secret, a token, a header value).
 */
export const UNSET_SECRET_PLACEHOLDER = 'whsec_dW5zZXQ=';

export interface InterpolateOptions {
  /** false: an unset or empty variable in a secret's key path becomes UNSET_SECRET_PLACEHOLDER instead of an error. */
  secretsRequired?: boolean;
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.
 * A missing variable without a default is a config error naming the variable and key path.
 * `$${VAR}` is left as the literal `${VAR}`.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  { secretsRequired = true }: InterpolateOptions = {},
): { value: unknown; defaulted: DefaultedVariable[]; emptied: EmptiedVariable[] } {
  const defaulted: DefaultedVariable[] = [];
  const emptied: EmptiedVariable[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const result = interpolateString(node, env, path, defaulted, secretsRequired);
      emptied.push(...emptiedIn(node, env, path));
      return result;
    }
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) out[key] = walk(child, [...path, key]);
      return out;
    }
    return node;
  };
  return { value: walk(value, []), defaulted, emptied };
}

/** A `${VAR}` that became the empty string (unset with an empty default, or set to ''), with the key path it fills. */
export interface EmptiedVariable {
  path: string;
  variable: string;
}

function emptiedIn(text: string, env: NodeJS.ProcessEnv, path: (string | number)[]): EmptiedVariable[] {
  const found: EmptiedVariable[] = [];
  for (const match of text.matchAll(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g)) {
    if (match[0].startsWith('$$')) continue;
    const set = env[match[1]!];
    if ((set === undefined || set === '') && (match[2] ?? '') === '') found.push({ path: formatKeyPath(path), variable: match[1]! });
  }
  return found;
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  defaulted: DefaultedVariable[],
  secretsRequired: boolean,
): string {
  return text.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (match, variable: string, fallback: string | undefined) => {
    if (match.startsWith('$$')) return match.slice(1);
    const set = env[variable];
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) {
      if (fallback !== '') {
        const keyPath = formatKeyPath(path);
        defaulted.push({ path: keyPath, variable, secret: SECRET_KEY_PATH.test(keyPath) });
      }
      return fallback;
    }
    if (!secretsRequired && SECRET_KEY_PATH.test(formatKeyPath(path))) return UNSET_SECRET_PLACEHOLDER;
    if (set === '') return '';
    throw new HookrelayError(
      'HOOKRELAY_CONFIG_INVALID',
      `${formatKeyPath(path)}: environment variable ${variable} is not set (use \${${variable}:-default} for a default)`,
    );
  });
}
