/**
 * The receiving node for the transport benchmark, run in a worker thread so that, as between two real
 * nodes, sending (seal + write) and receiving (read + open) proceed on separate cores. It accepts BOLT 8
 * connections and reports to the parent once a connection has delivered the number of messages the
 * parent announced for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { acceptNoise } from '../../core/transport/index.ts';
import { aeadBackends, nobleAead } from '../../core/crypto/index.ts';

const { secret } = workerData as { secret: Uint8Array };
const port = parentPort!;
/** The next connection's aead and message count, set by the parent before it dials. */
let expect: { aead: string; total: number } | undefined;

const server = createServer((s: Socket) => {
  const plan = expect;
  if (!plan) return void s.destroy();
  const aead = [...aeadBackends, nobleAead].find((b) => b.name === plan.aead)!;
  acceptNoise(s, { localSecret: secret, aead })
    .then((c) => {
      let got = 0;
      let bytes = 0;
      c.on('message', (m) => {
        bytes += m.length;
        if (++got === plan.total) {
          port.postMessage({ done: bytes });
          c.close('done');
        }
      });
      c.start();
    })
    .catch((e: unknown) => port.postMessage({ error: String(e) }));
});

port.on('message', (m: { aead: string; total: number } | 'stop') => {
  if (m === 'stop') {
    server.close();
    port.close();
    return;
  }
  expect = m;
  port.postMessage({ ready: true });
});
server.listen(0, '127.0.0.1', () => port.postMessage({ port: (server.address() as { port: number }).port }));
