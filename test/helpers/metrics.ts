/** Scrapes `/metrics` of a test server: `name{labels}` -> value, from the Prometheus text format. */
import assert from 'node:assert/strict';

export async function scrapeMetrics(url: string, token = ''): Promise<Map<string, number>> {
  const response = await fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}
