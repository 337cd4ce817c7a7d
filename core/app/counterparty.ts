/**
 * The playground's counterparty: a second Coulomb node on the playground chain, with coins of its own,
 * so a newcomer has someone to connect to, send to, and (with the channel and payment features) open
 * channels with and pay through. It is a toy that lives beside the user's node: its password is kept
 * in its own data directory, in the clear.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CoulombNode } from '../node/node.ts';
import { createLogger } from '../log/logger.ts';
import type { Logger } from '../log/logger.ts';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import type { BitcoindRpc } from '../chain/index.ts';
import { createMnemonic } from '../wallet/mnemonic.ts';
import { PLAYGROUND_DIR, PLAYGROUND_RPC_FILE } from '../node/chain-backend.ts';

const SECRET_FILE = 'counterparty.json';
/** The counterparty keeps at least this much on-chain; below it the faucet tops it up. */
const FLOAT_SAT = 50_000_000n;
/** A toy's password needs no expensive hashing. */
const TOY_SCRYPT = { N: 1 << 12, r: 8, p: 1 };

export class Counterparty {
  node!: CoulombNode;
  private readonly logFile: WriteStream;
  private readonly datadir: string;
  ready = false;

  /**
   * `name` is the node's folder and alias (default: the counterparty); `fund` tops its wallet up from
   * the faucet (the shop, which only receives, needs no coins).
   */
  constructor(private readonly opts: { appDir: string; playgroundDir: string; rpc: BitcoindRpc; faucetAddress: string; log: Logger; name?: string; fund?: boolean }) {
    this.datadir = join(opts.appDir, 'networks', opts.name ?? 'playground-counterparty');
    this.logFile = createWriteStream(join(opts.playgroundDir, `${(opts.name ?? 'playground-counterparty').replace(/^playground-/, '')}.log`), { flags: 'a', mode: 0o600 });
  }

  async start(): Promise<void> {
    await mkdir(this.datadir, { recursive: true, mode: 0o700 });
    const log = createLogger([(l) => this.logFile.write(l + '\n')], 'info');
    // The playground picks a free port each start: point the counterparty at where it is now.
    const rpc = JSON.parse((await readFileIfExists(join(this.opts.playgroundDir, PLAYGROUND_DIR, PLAYGROUND_RPC_FILE)))!.toString('utf8')) as { url: string };
    this.node = new CoulombNode({
      config: {
        datadir: this.datadir,
        network: 'regtest',
        chain: { kind: 'bitcoind', rpcHost: rpc.url.replace(/^http:\/\//, ''), rpcCookie: join(this.opts.playgroundDir, PLAYGROUND_DIR, '.cookie') },
        alias: this.opts.name ?? 'playground-counterparty',
        listen: [{ host: '127.0.0.1', port: 0 }],
        rpcListen: { host: '127.0.0.1', port: 0 },
        externalIps: [],
        logLevel: 'info',
        logToStderr: false,
        pollMs: 1000,
      },
      log,
      scryptCost: TOY_SCRYPT,
    });
    await this.node.start();
    const secretPath = join(this.datadir, SECRET_FILE);
    const saved = await readFileIfExists(secretPath);
    let password: string;
    if (saved) {
      password = (JSON.parse(saved.toString('utf8')) as { password: string }).password;
    } else {
      password = randomBytes(16).toString('hex');
      await writeFileDurable(secretPath, JSON.stringify({ password }) + '\n', 0o600);
    }
    if (this.node.state === 'NO_WALLET') await this.node.create({ password, words: createMnemonic(), newWallet: true });
    else await this.node.unlock(password);
    if (this.opts.fund !== false && this.node.wallet.balance().confirmed < FLOAT_SAT) {
      await this.opts.rpc.call('sendtoaddress', await this.node.wallet.newAddress(), 1);
      await this.opts.rpc.call('generatetoaddress', 1, this.opts.faucetAddress);
      await this.node.chain.source.poke();
    }
    this.ready = true;
    this.opts.log.info(`${this.opts.name ?? 'playground-counterparty'} is up`, { node_id: this.node.nodeId });
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.node?.stop();
    await new Promise<void>((r) => this.logFile.end(r));
  }
}
