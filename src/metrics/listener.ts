/** A listener of its own for `GET /metrics` (soketi's default is port 9601), apart from client traffic. */
import { createServer, type Server } from 'node:http';
import { metricsResponse, type MetricsEndpoint } from '../http/router.js';

export async function listenForMetrics(endpoint: MetricsEndpoint, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const answer =
      path !== '/metrics'
        ? Promise.resolve({ status: 404, body: '{"error":"Not found."}', headers: { 'Content-Type': 'application/json' } })
        : request.method !== 'GET'
          ? Promise.resolve({ status: 405, body: '{"error":"Method not allowed."}', headers: { 'Content-Type': 'application/json', Allow: 'GET' } })
          : metricsResponse(endpoint, request.headers.authorization);
    void answer.then(
      (result) => response.writeHead(result.status, { 'Content-Type': 'application/json', ...result.headers }).end(result.body),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
