/**
 * The connection's tokens as other parts of the connections module use them (the Garmin backfill and
 * pushes), provided by ConnectionsService under ACCESS_TOKENS. A token and an interface instead of
 * the class: ConnectionsService starts the Garmin backfill, so importing it back would be a cycle.
 */
export const ACCESS_TOKENS = Symbol('ACCESS_TOKENS');

export interface AccessTokens {
  /** Calls the provider with the connection's token; a 401 gets one refresh and one retry. Throws ConnectionRevoked. */
  withAccessToken(connectionId: string, call: (accessToken: string) => Promise<Response>): Promise<Response>;
}

/** The connection's tokens were refused or deleted: nothing can be fetched until the user connects again. */
export class ConnectionRevoked extends Error {
  constructor(readonly connectionId: string) {
    super(`Connection ${connectionId} is revoked`);
  }
}
