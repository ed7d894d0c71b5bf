/** The connection's tokens were refused or deleted: nothing can be fetched until the user connects again. */
export class ConnectionRevoked extends Error {
  constructor(readonly connectionId: string) {
    super(`Connection ${connectionId} is revoked`);
  }
}
