import type { ParsedConfig } from './schema.js';

type DeepReadonly<T> = T extends Buffer
  ? T
  : T extends (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

type ParsedDestination = ParsedConfig['destinations'][number];

/** The resolved, validated, frozen config every other module receives. */
export type Config = DeepReadonly<
  Omit<ParsedConfig, 'destinations'> & { destinations: (Omit<ParsedDestination, 'sources'> & { sources: string[] })[] }
>;
export type SourceConfig = Config['sources'][number];
export type DestinationConfig = Config['destinations'][number];
