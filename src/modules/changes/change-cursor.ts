/**
 * A feed cursor: the position (pos, seq) of the last change a reader has, as opaque text
 * (`c1.` + base64url of `pos.seq`). Both are non-negative integers below 2^53.
 */
export interface ChangePosition {
  pos: number;
  seq: number;
}

const PREFIX = 'c1.';

export function encodeChangeCursor({ pos, seq }: ChangePosition): string {
  return PREFIX + Buffer.from(`${pos}.${seq}`, 'utf8').toString('base64url');
}

/** The position of a cursor, or undefined when the text is not one this server wrote. */
export function decodeChangeCursor(cursor: string): ChangePosition | undefined {
  if (!cursor.startsWith(PREFIX)) return undefined;
  const body = cursor.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const match = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(body, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const pos = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(seq)) return undefined;
  return { pos, seq };
}

/** Orders two positions like the feed does: by pos, then seq. */
export function compareChangePositions(a: ChangePosition, b: ChangePosition): number {
  return a.pos !== b.pos ? a.pos - b.pos : a.seq - b.seq;
}
