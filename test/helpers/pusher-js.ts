/**
 * pusher-js for the tests, typed. Its typings declare an ES default export,
 * but its CommonJS build sets `module.exports` to the class itself: under
 * NodeNext the default import is that class at run time while TypeScript
 * sees the module. One cast here instead of one per test file.
 */
import PusherModule from 'pusher-js';

export type Pusher = PusherModule.default;
export const Pusher = PusherModule as unknown as typeof PusherModule.default;
export type { Channel, PresenceChannel, Options } from 'pusher-js';
