/**
 * A pusher-js client in its own process, for wss:// tests: Node reads the
 * test's CA from NODE_EXTRA_CA_CERTS only at process start, and pusher-js
 * takes no CA option. Usage: pusher-tls-client.ts <key> <host> <port> <channel>.
 * Prints one JSON line per event: connected, subscribed, message, error.
 */
import { Pusher } from './pusher-js.js';

const [key, host, port, channel] = process.argv.slice(2) as [string, string, string, string];
const print = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

const pusher = new Pusher(key, { wsHost: host, wssPort: Number(port), forceTLS: true, enabledTransports: ['ws', 'wss'], cluster: '' });
pusher.connection.bind('connected', () => print({ type: 'connected', socketId: pusher.connection.socket_id }));
pusher.connection.bind('error', (error: unknown) => print({ type: 'error', error: String((error as { error?: unknown }).error ?? JSON.stringify(error)) }));
const subscription = pusher.subscribe(channel);
subscription.bind('pusher:subscription_succeeded', () => print({ type: 'subscribed' }));
subscription.bind_global((event: string, data: unknown) => {
  if (!event.startsWith('pusher:')) print({ type: 'message', event, data });
});
// The test ends this process; never outlive it.
setTimeout(() => process.exit(2), 30_000).unref();
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
