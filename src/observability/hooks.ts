/** Typed hooks for embedders: Reverb users keep asking for these (reverb.md §9). */

export interface ConnectionInfo {
  readonly appId: string;
  readonly socketId: string;
  readonly remoteAddress: string;
}

export interface ServerHooks {
  connectionOpened?(connection: ConnectionInfo): void;
  connectionClosed?(connection: ConnectionInfo & { readonly code: number }): void;
  subscribed?(connection: ConnectionInfo & { readonly channel: string }): void;
  unsubscribed?(connection: ConnectionInfo & { readonly channel: string }): void;
  /** Every inbound frame as received (text). */
  messageReceived?(connection: ConnectionInfo & { readonly message: string }): void;
}
