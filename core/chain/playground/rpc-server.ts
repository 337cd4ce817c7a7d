/**
 * bitcoind's JSON-RPC over HTTP for the playground chain: basic auth (user/password or a cookie file
 * like bitcoind's `.cookie`), batches, bitcoind's error codes and result shapes. Loopback only.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import type { Transaction } from 'bitcoinjs-lib';
import { address as baddress, networks } from 'bitcoinjs-lib';
import { writeFileDurable } from '../../store/durable-file.ts';
import { PlaygroundChain } from './chain.ts';
import { Faucet } from './faucet.ts';
import { describeHeader, describeTx, btc } from './describe.ts';
import { TxRejected } from './rules.ts';

export class RpcFailure extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

type Params = unknown[];

function need<T>(v: unknown, what: string, check: (v: unknown) => boolean): T {
  if (!check(v)) throw new RpcFailure(-8, `Invalid parameter: ${what}`);
  return v as T;
}
const isHash = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isInt = (v: unknown): boolean => Number.isInteger(v);
/** Bitcoin Core refuses to return the genesis block's coinbase, whatever the settings. */
const GENESIS_COINBASE_TXID = '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b';

export interface Playground {
  url: string;
  port: number;
  chain: PlaygroundChain;
  faucet: Faucet;
  rpcuser: string;
  rpcpassword: string;
  /**
   * Plays a bitcoind that went away (stopped, restarting, its machine asleep) and came back: while
   * unreachable, every connection is cut as it arrives and every open one is closed; the chain itself
   * goes on. For showing what a node does when its chain source disappears mid-work.
   */
  setReachable(reachable: boolean): void;
  stop(): Promise<void>;
}

export interface PlaygroundOptions {
  datadir?: string;
  host?: string;
  port?: number;
  rpcuser?: string;
  rpcpassword?: string;
  /**
   * Answer as a fresh Bitcoin Core regtest node does where the playground is otherwise kinder, so that
   * tests against it catch what would fail against Core: estimatesmartfee has no estimate (Core needs
   * far more history than a test chain has, so the node must fall back), and the chain is in initial
   * block download until its tip is less than a day old (Core's -maxtipage; a fresh chain's tip is the
   * 2011 genesis block).
   */
  likeBitcoinCore?: boolean;
}

/** Bitcoin Core's -maxtipage default: a tip older than this means initial block download. */
const MAX_TIP_AGE_S = 24 * 60 * 60;

export function createHandlers(chain: PlaygroundChain, faucet: Faucet, opts: { likeBitcoinCore?: boolean } = {}): Record<string, (p: Params) => unknown | Promise<unknown>> {
  // Core leaves initial block download once, and never goes back to it.
  let leftIbd = !opts.likeBitcoinCore;
  const inIbd = (): boolean => {
    if (!leftIbd && chain.tip.block.timestamp > Date.now() / 1000 - MAX_TIP_AGE_S) leftIbd = true;
    return !leftIbd;
  };
  const entryFor = (hash: unknown) => {
    const e = chain.entryByHash(need<string>(hash, 'blockhash', isHash));
    if (!e) throw new RpcFailure(-5, 'Block not found');
    return e;
  };
  const header = (e: ReturnType<typeof entryFor>) => describeHeader(e.block, e.height, chain.height - e.height + 1, e.mtp, chain.entries[e.height + 1]?.hash);
  const scriptFor = (addr: unknown) => {
    try {
      return baddress.toOutputScript(String(addr), networks.regtest);
    } catch {
      throw new RpcFailure(-5, 'Invalid address');
    }
  };
  return {
    getblockchaininfo: () => ({
      chain: 'regtest',
      blocks: chain.height,
      headers: chain.height,
      bestblockhash: chain.tip.hash,
      difficulty: 4.656542373906925e-10,
      time: chain.tip.block.timestamp,
      mediantime: chain.tip.mtp,
      verificationprogress: 1,
      initialblockdownload: inIbd(),
      chainwork: (chain.height + 1).toString(16).padStart(64, '0'),
      size_on_disk: 0,
      pruned: false,
      warnings: '',
    }),
    getblockcount: () => chain.height,
    getbestblockhash: () => chain.tip.hash,
    getblockhash: ([h]) => {
      const e = chain.entries[need<number>(h, 'height', isInt)];
      if (!e) throw new RpcFailure(-8, 'Block height out of range');
      return e.hash;
    },
    getblockheader: ([hash, verbose = true]) => {
      const e = entryFor(hash);
      return verbose ? header(e) : Buffer.from(e.block.toBuffer(true)).toString('hex');
    },
    getblock: ([hash, verbosity = 1]) => {
      const e = entryFor(hash);
      if (verbosity === 0 || verbosity === false) return e.block.toHex();
      const txs = e.block.transactions ?? [];
      return {
        ...header(e),
        strippedsize: e.block.byteLength(false, false),
        size: e.block.byteLength(),
        weight: e.block.weight(),
        tx: verbosity === 1 || verbosity === true ? txs.map((t) => t.getId()) : txs.map((t) => describeTx(t)),
      };
    },
    // As Bitcoin Core answers without -txindex (the setting Coulomb must work with): a transaction in the
    // mempool, or one in the block named by `blockhash`; a confirmed transaction without its block is
    // not found, with Core's code and message.
    getrawtransaction: ([txid, verbosity = 0, blockhash]) => {
      const id = need<string>(txid, 'txid', isHash);
      if (id === GENESIS_COINBASE_TXID) throw new RpcFailure(-5, 'The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved');
      const verbose = verbosity === true || (typeof verbosity === 'number' && verbosity > 0);
      let tx: Transaction | undefined;
      let extra: Record<string, unknown> = {};
      if (blockhash !== undefined && blockhash !== null) {
        const e = chain.entryByHash(need<string>(blockhash, 'blockhash', isHash));
        if (!e) throw new RpcFailure(-5, 'Block hash not found');
        tx = e.block.transactions?.find((t) => t.getId() === id);
        if (!tx) throw new RpcFailure(-5, 'No such transaction found in the provided block. Use gettransaction for wallet transactions.');
        const active = chain.entries[e.height]?.hash === e.hash;
        extra = active
          ? { in_active_chain: true, blockhash: e.hash, confirmations: chain.height - e.height + 1, time: e.block.timestamp, blocktime: e.block.timestamp }
          : { in_active_chain: false, blockhash: e.hash, confirmations: 0 };
      } else {
        tx = chain.mempool.get(id)?.tx;
        if (!tx) throw new RpcFailure(-5, 'No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.');
      }
      return verbose ? describeTx(tx, extra) : tx.toHex();
    },
    sendrawtransaction: ([txHex]) => {
      try {
        return chain.acceptToMempool(String(txHex));
      } catch (e) {
        if (e instanceof TxRejected) throw new RpcFailure(e.rpcCode, e.message);
        throw e;
      }
    },
    testmempoolaccept: ([txs]) =>
      need<string[]>(txs, 'rawtxs', Array.isArray).map((t) => {
        const r = chain.testAccept(String(t));
        return r.allowed
          ? { txid: r.txid, allowed: true, vsize: r.vsize, fees: { base: btc(r.fee!) } }
          : { txid: r.txid, allowed: false, 'reject-reason': r.reason };
      }),
    getrawmempool: ([verbose = false]) =>
      verbose
        ? Object.fromEntries([...chain.mempool.values()].map((e) => [e.txid, { vsize: e.vsize, time: e.time, fees: { base: btc(e.fee) }, height: chain.height }]))
        : [...chain.mempool.keys()],
    getmempoolentry: ([txid]) => {
      const e = chain.mempool.get(need<string>(txid, 'txid', isHash));
      if (!e) throw new RpcFailure(-5, 'Transaction not in mempool');
      return { vsize: e.vsize, weight: e.vsize * 4, time: e.time, height: chain.height, fees: { base: btc(e.fee) }, 'bip125-replaceable': true };
    },
    getmempoolinfo: () => ({ loaded: true, size: chain.mempool.size, mempoolminfee: 0.00001, minrelaytxfee: 0.00001, fullrbf: true }),
    gettxout: ([txid, n, includeMempool = true]) => {
      const id = need<string>(txid, 'txid', isHash);
      const vout = need<number>(n, 'n', isInt);
      if (includeMempool && [...chain.mempool.values()].some((e) => e.tx.ins.some((i) => i.index === vout && Buffer.from(i.hash).reverse().toString('hex') === id))) return null;
      const c = chain.coin(id, vout);
      if (!c) return null;
      return { bestblock: chain.tip.hash, confirmations: chain.height - c.height + 1, value: btc(c.value), scriptPubKey: { hex: Buffer.from(c.script).toString('hex') }, coinbase: c.coinbase };
    },
    estimatesmartfee: ([target]) => {
      need<number>(target, 'conf_target', isInt);
      // Core's answer while it has too little data (always, on a fresh regtest chain); a busy network
      // set with setfeeestimate still answers.
      if (opts.likeBitcoinCore && chain.feeEstimateFloorSatPerVb <= 0) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
      const rates = [...chain.mempool.values()].map((e) => Number(e.fee) / e.vsize).sort((a, b) => a - b);
      const satPerVb = Math.max(1, chain.feeEstimateFloorSatPerVb, rates.length ? rates[Math.floor(rates.length / 2)]! : 1);
      return { feerate: (satPerVb * 1000) / 1e8, blocks: Math.max(2, Number(target)) };
    },
    getnetworkinfo: () => ({ version: 280000, subversion: '/Coulomb playground/', protocolversion: 70016, localrelay: true, networkactive: true, connections: 0, relayfee: 0.00001, incrementalfee: 0.00001, warnings: '' }),
    uptime: () => Math.floor(process.uptime()),
    generatetoaddress: async ([n, addr]) => chain.mine(need<number>(n, 'nblocks', (v) => isInt(v) && (v as number) >= 0 && (v as number) <= 1000), scriptFor(addr)),
    invalidateblock: async ([hash]) => {
      try {
        await chain.invalidateBlock(need<string>(hash, 'blockhash', isHash));
      } catch (e) {
        if (e instanceof TxRejected) throw new RpcFailure(e.rpcCode, e.message);
        throw e;
      }
      return null;
    },
    // Playground extras (not in bitcoind): a faucet and its balance, and a fee estimate to play a busy network.
    // setfeeestimate <estimate sat/vB> [<least package feerate miners take, sat/vB>]
    setfeeestimate: ([satPerVb, minMining = 0]) => {
      const rate = (v: unknown): boolean => typeof v === 'number' && v >= 0 && v <= 10_000;
      chain.feeEstimateFloorSatPerVb = need<number>(satPerVb, 'sat_per_vb', rate);
      chain.minMiningFeeSatPerVb = need<number>(minMining, 'min_mining_sat_per_vb', rate);
      return null;
    },
    sendtoaddress: async ([addr, amountBtc]) => {
      const amount = need<number>(amountBtc, 'amount', (v) => typeof v === 'number' && v > 0 && v <= 21e6);
      try {
        return await faucet.send(String(addr), BigInt(Math.round(amount * 1e8)));
      } catch (e) {
        if (e instanceof TxRejected) throw new RpcFailure(e.rpcCode, e.message);
        throw e;
      }
    },
    getbalance: () => btc(faucet.balance()),
  };
}

export async function startPlayground(opts: PlaygroundOptions = {}): Promise<Playground> {
  const chain = await PlaygroundChain.open(opts.datadir);
  const faucet = new Faucet(chain);
  const handlers = createHandlers(chain, faucet, { likeBitcoinCore: !!opts.likeBitcoinCore });
  const rpcuser = opts.rpcuser ?? '__cookie__';
  // 32 bytes, as bitcoind's own cookie: readers check the `__cookie__:<64 hex>` shape.
  const rpcpassword = opts.rpcpassword ?? randomBytes(32).toString('hex');
  const expected = Buffer.from(`Basic ${Buffer.from(`${rpcuser}:${rpcpassword}`).toString('base64')}`);

  const call = async (req: { method?: unknown; params?: unknown; id?: unknown; jsonrpc?: unknown }): Promise<{ status: number; body: unknown }> => {
    const v2 = req.jsonrpc === '2.0';
    const id = req.id ?? null;
    const h = typeof req.method === 'string' ? handlers[req.method] : undefined;
    if (!h) {
      const error = { code: -32601, message: 'Method not found' };
      return { status: v2 ? 200 : 404, body: v2 ? { jsonrpc: '2.0', error, id } : { result: null, error, id } };
    }
    try {
      const params = Array.isArray(req.params) ? req.params : [];
      const result = await h(params);
      return { status: 200, body: v2 ? { jsonrpc: '2.0', result, id } : { result, error: null, id } };
    } catch (e) {
      const error = e instanceof RpcFailure ? { code: e.code, message: e.message } : { code: -1, message: e instanceof Error ? e.message : String(e) };
      return { status: v2 ? 200 : 500, body: v2 ? { jsonrpc: '2.0', error, id } : { result: null, error, id } };
    }
  };

  let reachable = true;
  const server: Server = createServer((req, res) => {
    if (!reachable) {
      req.socket.destroy();
      return;
    }
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(text);
    };
    const auth = Buffer.from(req.headers.authorization ?? '');
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 32 << 20) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          send(500, { result: null, error: { code: -32700, message: 'Parse error' }, id: null });
          return;
        }
        if (Array.isArray(parsed)) {
          const out = [];
          // Batches run in order, as bitcoind does.
          for (const r of parsed) out.push((await call(r as Record<string, unknown>)).body);
          send(200, out);
        } else {
          const r = await call(parsed as Record<string, unknown>);
          send(r.status, r.body);
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (opts.datadir && !opts.rpcpassword) {
    await writeFileDurable(join(opts.datadir, '.cookie'), `${rpcuser}:${rpcpassword}`, 0o600);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    chain,
    faucet,
    rpcuser,
    rpcpassword,
    setReachable(r: boolean) {
      reachable = r;
      if (!r) server.closeAllConnections();
    },
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
