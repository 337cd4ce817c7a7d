/**
 * bitcoind's ZMQ `rawblock` notifications (`-zmqpubrawblock=tcp://…`, given to Coulomb as
 * `--bitcoind.zmqpubrawblock`), used as a nudge: each one makes the chain source poll at once instead
 * of at its next timer. The blocks themselves still come over JSON-RPC through the one ordered path
 * that handles reorgs; the notification's body is not trusted for anything.
 *
 * Polling stays on as the fallback: ZMQ drops messages by design (a subscriber that connects late, a
 * full queue) and bitcoind may restart. Nothing here stops the node: the `zeromq` addon failing to
 * load, a bad endpoint or a broken socket is logged once and the node goes on polling.
 */

export interface RawBlockSubscription {
  /** Closes the socket; resolves once the receiving loop has ended. */
  stop(): Promise<void>;
}

export interface RawBlockOptions {
  /** Called for each notification (at most one call runs with one more queued: see below). */
  poke: () => Promise<void>;
  info: (msg: string) => void;
  warn: (msg: string) => void;
}

/** The part of zeromq's Subscriber used here (tests may hand in their own). */
interface SubscriberLike extends AsyncIterable<Buffer[]> {
  connect(endpoint: string): void;
  subscribe(...topics: string[]): void;
  close(): void;
}

export async function subscribeRawBlocks(endpoint: string, opts: RawBlockOptions): Promise<RawBlockSubscription> {
  const fallback = (why: string): RawBlockSubscription => {
    opts.warn(`ZMQ block notifications from ${endpoint} are not used (${why}); following bitcoind by polling`);
    return { stop: async () => undefined };
  };
  let sub: SubscriberLike;
  try {
    // Loaded only here: a node without ZMQ configured never loads the native addon.
    const zmq = await import('zeromq');
    sub = new zmq.Subscriber() as unknown as SubscriberLike;
  } catch (e) {
    return fallback(`the zeromq module could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    sub.connect(endpoint);
    sub.subscribe('rawblock');
  } catch (e) {
    sub.close();
    return fallback(`${e instanceof Error ? e.message : String(e)}; give it as tcp://host:port, the value of bitcoind's -zmqpubrawblock`);
  }
  opts.info(`listening for new blocks on ${endpoint} (ZMQ rawblock); polling continues as a fallback`);
  let stopped = false;
  // A burst of notifications (bitcoind catching up) costs at most the poll under way and one more:
  // that one starts after the current one ends, so it sees every block announced meanwhile.
  let pending = 0;
  const loop = (async () => {
    try {
      for await (const [topic] of sub) {
        if (topic?.toString() !== 'rawblock' || pending >= 2) continue;
        pending++;
        void opts.poke().finally(() => pending--);
      }
    } catch (e) {
      if (!stopped) opts.warn(`ZMQ block notifications from ${endpoint} stopped (${e instanceof Error ? e.message : String(e)}); following bitcoind by polling`);
    }
  })();
  return {
    async stop() {
      stopped = true;
      sub.close();
      await loop;
    },
  };
}
