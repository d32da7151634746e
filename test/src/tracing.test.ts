import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTracing } from '../../src/tracing.js';
import { startHub, type TestHub } from '../support/hub.js';
import { RawClient } from '../support/raw-client.js';
import { waitFor } from '../support/wait.js';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let stopTracing: () => Promise<void>;
  let hub: TestHub;
  before(async () => {
    stopTracing = await startTracing({ enabled: true, serviceName: 'switchboard-test', sampleRatio: 1 }, exporter);
    hub = await startHub();
  });
  after(async () => {
    await hub.stop();
    await stopTracing();
  });

  const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
  const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;

  it("links a service's HTTP publish, the hub's publish span and its fan-out in one trace", async () => {
    const subscriber = await RawClient.connected(hub.url);
    await subscriber.ok({ t: 'sub', ch: 'traced:http' });
    const service = trace.getTracer('a-service').startSpan('service.publish');
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), service), headers);
    const response = await fetch(`${hub.http}/api/publish`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ channel: 'traced:http', data: 1 }),
    });
    assert.equal(response.status, 200);
    service.end();
    await waitFor(
      () => subscriber.publications().length === 1 && spans('switchboard.fanout').length === 1,
      'the fan-out span',
    );
    const publish = spans('switchboard.publish http')[0];
    const fanout = spans('switchboard.fanout')[0];
    assert.equal(publish?.spanContext().traceId, service.spanContext().traceId);
    assert.equal(parentOf(publish), service.spanContext().spanId);
    assert.equal(fanout?.spanContext().traceId, service.spanContext().traceId);
    assert.equal(parentOf(fanout), publish?.spanContext().spanId);
    assert.equal(fanout?.attributes['switchboard.subscribers'], 1);
    subscriber.close();
  });

  it('traces a client publish through the broker to the fan-out', async () => {
    exporter.reset();
    const client = await RawClient.connected(hub.url);
    await client.ok({ t: 'sub', ch: 'traced:client' });
    await client.ok({ t: 'pub', ch: 'traced:client', d: 2 });
    await waitFor(() => spans('switchboard.fanout').length === 1, 'the fan-out span');
    const publish = spans('switchboard.publish client')[0];
    assert.equal(parentOf(spans('switchboard.fanout')[0]), publish?.spanContext().spanId);
    client.close();
  });
});
