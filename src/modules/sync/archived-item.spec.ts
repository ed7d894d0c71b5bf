import { describe, expect, it } from '@jest/globals';
import { ArchivedBodyError, archivedItem } from './archived-item.js';

const text = (bytes: Uint8Array | undefined) => (bytes ? new TextDecoder().decode(bytes) : undefined);
const item = (body: string, ordinal: number) => text(archivedItem(new TextEncoder().encode(body), ordinal));

describe('archivedItem', () => {
  it('cuts an item out of the body as it was written: spacing, key order, number spelling, escapes, non-ASCII', () => {
    const body = '{ "cursor" : "c]1", "activities" : [ {"b":1.50,"a":"x\\"}]{"} ,\n{"name":"Läufer 🏃","n":[1,{"k":[]}]} ], "deletedExternalIds":[]}';
    expect(item(body, 0)).toBe('{"b":1.50,"a":"x\\"}]{"}');
    expect(item(body, 1)).toBe('{"name":"Läufer 🏃","n":[1,{"k":[]}]}');
    expect(item(body, 2)).toBeUndefined();
  });

  it('counts items over the item fields in their fixed order (activities, then the Garmin push keys), whatever the body order', () => {
    const body = '{"dailies":[{"d":0}],"activityDetails":[{"x":0},{"x":1}],"activities":[{"a":0}]}';
    expect([0, 1, 2, 3].map((n) => item(body, n))).toEqual(['{"a":0}', '{"x":0}', '{"x":1}', '{"d":0}']);
  });

  it('takes the last of a repeated key, as the JSON parser did', () => {
    expect(item('{"activities":[{"a":1}],"activities":[{"a":2}]}', 0)).toBe('{"a":2}');
  });

  it('says when the bytes are not a JSON object', () => {
    expect(() => item('[1,2]', 0)).toThrow(ArchivedBodyError);
    expect(() => item('{"activities":[{"a":"open', 0)).toThrow(ArchivedBodyError);
  });
});
