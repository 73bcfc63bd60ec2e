/** Picks the transport for `--transport auto|uws|ws` (`servers.reverb.transport`, REVERB_TRANSPORT). */
import type { TransportChoice } from '../config/types.js';
import type { Transport } from './types.js';
import { uwsAvailability } from './uws-loader.js';
import { UwsTransport } from './uws.js';
import { WsTransport } from './ws.js';

export interface SelectedTransport {
  readonly transport: Transport;
  /** For the start-up line: which library, and why when `auto` fell back to ws. */
  readonly description: string;
}

export function selectTransport(choice: TransportChoice): SelectedTransport {
  if (choice === 'ws') return { transport: new WsTransport(), description: 'ws' };
  const uws = uwsAvailability();
  if (uws.available) return { transport: new UwsTransport(uws.uws), description: `uws (${uws.description})` };
  if (choice === 'uws') throw new Error(`The uws transport is unavailable: ${uws.reason}. Use --transport ws or auto.`);
  return { transport: new WsTransport(), description: `ws (uWebSockets.js unavailable: ${uws.reason})` };
}
