import { describe, expect, it } from 'vitest';
import { idParams, parsed, replayBody, runMetadataHeader, runParams, runRegistrationBody, runsQuery } from '../../src/admin/api-schemas.js';
import { HookrelayError } from '../../src/errors.js';

/** The 400 `parsed` throws for `value`, as the admin listener answers it. */
function refusal(schema: Parameters<typeof parsed>[0], value: unknown): { code: string; message: string } {
  try {
    parsed(schema, value);
  } catch (error) {
    if (error instanceof HookrelayError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(value)}`);
}

/**
 * The admin API's input schemas on their own: what the router hands them (path parameters, a
 * parsed query string, a parsed body, a header's text) and the key path each refusal names.
 * The listener's answers to the same inputs are in admin-request-bodies.test.ts.
 */
describe('admin API input schemas', () => {
  it.each([
    ['an empty event id', idParams, { id: '' }, 'id: expected a non-empty string'],
    ['no run id', runParams, {}, 'runId: expected a non-empty string'],
    ['a wrong element of ids', replayBody, { ids: ['d1', 'd2', null] }, 'ids[2]: expected a delivery id (a string)'],
    ['two wrong keys', replayBody, { destination: 1, since: [] }, 'destination: expected a string; since: expected a duration or an ISO-8601 time'],
    ['a body that is not an object', runRegistrationBody, [], 'the body must be a JSON object'],
    ['a run status that is not one', runsQuery, { status: 'done' }, 'status: expected one of submitted, completed, overdue, lost'],
    ['metadata that is not an object', runMetadataHeader, '[]', 'expected a JSON object'],
    ['metadata that is not JSON', runMetadataHeader, '{"a":', 'expected a JSON object'],
  ] as const)('%s -> 400 "%s"', (_name, schema, value, message) => {
    expect(refusal(schema, value)).toEqual({ code: 'HOOKRELAY_BAD_REQUEST', message });
  });

  it('reads what the routes pass on: decoded ids, the last of a repeated query value, metadata as an object', () => {
    expect(parsed(idParams, { id: 'evt 1' })).toEqual({ id: 'evt 1' });
    expect(parsed(runsQuery, { status: ['lost', 'overdue'], limit: '20' })).toEqual({ status: 'overdue', limit: 20 });
    expect(parsed(runsQuery, { status: '' })).toEqual({});
    expect(parsed(runMetadataHeader, '{"doc":"d-1"}')).toEqual({ doc: 'd-1' });
  });
});
