/**
 * A real HTTP endpoint that receives webhooks the way a backend does: every
 * request is checked with the `pusher` SDK's `webhook()` (signature, key,
 * content type), and its answer can be scripted per request (status, delay).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import PusherServer from 'pusher';
import { waitFor } from './clients.js';

export interface ReceivedWebhook {
  readonly valid: boolean;
  readonly headers: IncomingMessage['headers'];
  readonly body: { time_ms: number; events: Record<string, unknown>[] };
}

/** How to answer a request: a status, after an optional delay (ms). */
export type Answer = { status: number; delayMs?: number };

export class WebhookReceiver {
  /** Requests answered with 2xx. */
  readonly received: ReceivedWebhook[] = [];
  /** Every request, whatever the answer (retries included). */
  readonly requests: ReceivedWebhook[] = [];
  /** Requests seen, answered or not (retries included). */
  attempts = 0;
  private readonly listeners = new Set<() => void>();
  private answer: (attempt: number, body: ReceivedWebhook['body']) => Answer = () => ({ status: 200 });

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(app: { app_id: string; key: string; secret: string }): Promise<WebhookReceiver> {
    const sdk = new PusherServer({ appId: app.app_id, key: app.key, secret: app.secret, host: '127.0.0.1' });
    let receiver: WebhookReceiver | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString();
        const webhook = sdk.webhook({ headers: request.headers as Record<string, string>, rawBody });
        const entry: ReceivedWebhook = { valid: webhook.isValid(), headers: request.headers, body: JSON.parse(rawBody) };
        const answer = receiver!.answer(++receiver!.attempts, entry.body);
        setTimeout(() => {
          receiver!.requests.push(entry);
          if (answer.status >= 200 && answer.status < 300) receiver!.received.push(entry);
          for (const listener of receiver!.listeners) listener();
          response.writeHead(answer.status).end();
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/webhooks`);
    return receiver;
  }

  /** Scripts the answers (the attempt number counts every request). */
  respond(answer: (attempt: number, body: ReceivedWebhook['body']) => Answer): void {
    this.answer = answer;
  }

  /** Every event accepted so far, in arrival order. */
  events(): Record<string, unknown>[] {
    return this.received.flatMap((webhook) => webhook.body.events);
  }

  /** Waits until at least `count` events were accepted. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<Record<string, unknown>[]> {
    await this.waitUntil(`${count} webhook events (have ${this.events().length})`, () => this.events().length >= count, timeoutMs);
    return this.events();
  }

  /** Waits until `condition` holds, checked at each request; `what` describes it when the wait times out. */
  async waitUntil(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
    if (condition()) return;
    let check = (): void => undefined;
    try {
      await waitFor(what, (resolve) => {
        check = () => {
          if (condition()) resolve(undefined);
        };
        this.listeners.add(check);
      }, timeoutMs);
    } finally {
      this.listeners.delete(check);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
