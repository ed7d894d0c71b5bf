import type { Route } from '@orpc/contract';

/** The OpenAPI operation object oRPC hands to a route's `spec` hook. */
type OperationObject = Parameters<Extract<NonNullable<Route['spec']>, (operation: never) => unknown>>[0];

/**
 * A route's `spec` hook that documents exactly one request media type. oRPC documents a media type
 * per branch of a body union (and JSON beside multipart for an object holding files); a generator
 * then builds one body typed as the union of all of them and serialises it one way, so orval sent
 * the JSON columns of `Blob | StreamColumns` as "[object Object]". One media type per operation
 * gives every generator one typed body; the server may still accept the others (the operation's
 * description says which, and where each has its own operation).
 */
export function documentRequestAs(mediaType: string): (operation: OperationObject) => OperationObject {
  return (operation) => {
    const body = operation.requestBody;
    const content = body && 'content' in body ? body.content : undefined;
    const kept = content?.[mediaType];
    // Fails the document's generation rather than documenting an operation without its body.
    if (!body || !content || !kept) {
      throw new Error(`${operation.operationId ?? 'an operation'} has no ${mediaType} request body to document`);
    }
    return { ...operation, requestBody: { ...body, content: { [mediaType]: kept } } };
  };
}
