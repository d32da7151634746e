/**
 * Publishing with `POST /api/publish` over keep-alive HTTP/1.1 connections (TLS when the target
 * has it). Responses are only counted (`200` or not), which is all the benchmark needs of them.
 *
 * Two patterns:
 * - pipelined: one connection, every publication due written at once, responses read as they come.
 * - single: REQUESTERS connections, each with one request at a time, the next written after the
 *   response — a service posting each event as it happens, with a few concurrent workers.
 */
import net from 'node:net';
import tls from 'node:tls';
import { monoMicros } from '../clock.js';
import { payloadText } from '../payload.js';
import { countError } from './counters.js';
import type { Emitter, Rotation } from './emitter.js';
import type { Target } from './types.js';

const REQUESTERS = 4;

interface Requester {
  readonly socket: net.Socket;
  /** Requests written and not yet answered. */
  waiting: number;
  ok: number;
  failed: number;
}

const requesters = new Set<Requester>();

async function requester(target: Target): Promise<Requester> {
  const where = { host: target.host, port: target.port };
  const socket = target.tls
    ? tls.connect({ ...where, rejectUnauthorized: false })
    : net.connect({ ...where, noDelay: true });
  socket.setNoDelay(true);
  const r: Requester = { socket, waiting: 0, ok: 0, failed: 0 };
  // Status lines are found by scanning; the hub's response bodies never contain "HTTP/1.1 ".
  let tail = '';
  socket.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    let last = -1;
    for (
      let at = text.indexOf('HTTP/1.1 ');
      at >= 0 && at + 12 <= text.length;
      at = text.indexOf('HTTP/1.1 ', at + 9)
    ) {
      if (text.startsWith('200', at + 9)) r.ok += 1;
      else {
        r.failed += 1;
        countError(`http ${text.slice(at + 9, at + 12)}`);
      }
      r.waiting -= 1;
      last = at + 12;
    }
    tail = text.slice(Math.max(last, text.length - 11));
  });
  socket.on('error', (error) => countError(`http publisher: ${error.message}`));
  await new Promise<void>((resolve, reject) => {
    socket.once(target.tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  requesters.add(r);
  return r;
}

export function closeHttpPublishers(): void {
  for (const r of requesters) r.socket.destroy();
  requesters.clear();
}

function request(rotation: Rotation, now: number): string {
  const i = rotation.take();
  const body = `{"channel":"${rotation.name(i)}","data":"${payloadText(now, rotation.seq(i))}"}`;
  return `POST /api/publish HTTP/1.1\r\nHost: bench\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
}

export async function httpEmitter(target: Target, rotation: Rotation, single: boolean): Promise<Emitter> {
  const pool = await Promise.all(Array.from({ length: single ? REQUESTERS : 1 }, () => requester(target)));
  const sum = (f: (r: Requester) => number) => pool.reduce((a, r) => a + f(r), 0);
  const ok0 = sum((r) => r.ok);
  const failed0 = sum((r) => r.failed);
  return {
    get acks() {
      return sum((r) => r.ok) - ok0;
    },
    get errors() {
      return sum((r) => r.failed) - failed0;
    },
    capacity: () => (single ? pool.filter((r) => r.waiting === 0).length : Number.POSITIVE_INFINITY),
    emit: (count) => {
      if (count <= 0) return;
      const now = monoMicros();
      if (!single) {
        const [r] = pool as [Requester];
        let text = '';
        for (let k = 0; k < count; k++) text += request(rotation, now);
        r.waiting += count;
        r.socket.write(text, 'latin1');
        return;
      }
      let left = count;
      for (const r of pool) {
        if (left === 0) break;
        if (r.waiting > 0) continue;
        r.waiting = 1;
        r.socket.write(request(rotation, now), 'latin1');
        left -= 1;
      }
    },
  };
}
