/**
 * The `coulomb` commands: one table row each, lncli's names and flags where lnd users would look for them.
 */
import type { CommandSpec, ParsedFlags } from './args.ts';
import { UsageError } from './args.ts';
import type { MethodName } from '../api/contract.ts';
import { BACKUP_COMMANDS } from './backup-commands.ts';
import { TOWER_COMMANDS } from './tower-commands.ts';
import { EXPORT_HISTORY_COMMAND } from './export-history.ts';

export interface ClientCommand extends CommandSpec {
  method: MethodName;
  /** Turns parsed flags into the API method's input. */
  toParams(flags: ParsedFlags, positionals: string[]): Record<string, unknown>;
  /** Commands whose first word picks the method (tower info, wtclient add): that method. */
  methodFor?(positionals: string[]): MethodName;
  /** Commands with a conversation (create, unlock) run their own flow instead of one call. */
  interactive?: true;
  /** What the command does with the answer before it is printed (e.g. write a file). */
  afterCall?(result: unknown, flags: ParsedFlags): Promise<unknown>;
}

function int(v: unknown, what: string): number {
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${what} must be a whole number, not "${String(v)}"`);
  return n;
}

function str(flags: ParsedFlags, name: string, what: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || !v) throw new UsageError(`missing ${what}`);
  return v;
}

export const DAEMON_COMMAND: CommandSpec = {
  name: 'daemon',
  usage: 'daemon [--datadir D] [--network regtest] [--listen 127.0.0.1:9735] [--rpclisten 127.0.0.1:10009 [--allow-remote]]',
  summary: 'Runs the Coulomb node in the foreground. Logs go to <datadir>/coulomb.log and to stderr.',
  flags: [
    { name: 'datadir', type: 'string', help: 'data directory (default ~/.coulomb)' },
    { name: 'network', type: 'string', help: 'mainnet | testnet | testnet4 | signet | regtest | playground (default playground)' },
    { name: 'bitcoind.rpchost', type: 'string', help: "bitcoind's RPC host:port (default 127.0.0.1 and the network's port)" },
    { name: 'bitcoind.rpcuser', type: 'string', help: 'bitcoind RPC user' },
    { name: 'bitcoind.rpcpass', type: 'string', help: 'bitcoind RPC password (visible to other programs: prefer --bitcoind.rpcpass_file)' },
    { name: 'bitcoind.rpcpass_file', type: 'string', help: 'read the bitcoind RPC password from this file (first line)' },
    { name: 'bitcoind.rpccookie', type: 'string', help: "path of bitcoind's .cookie file (instead of user and password)" },
    { name: 'bitcoind.zmqpubrawblock', type: 'string', help: "bitcoind's -zmqpubrawblock endpoint (tcp://host:port): new blocks are fetched as soon as announced; polling stays as the fallback" },
    { name: 'bitcoind.zmqpubrawtx', type: 'string', help: 'accepted for lnd compatibility; not used (Coulomb reads the mempool by polling)' },
    { name: 'db.backend', type: 'string', help: 'where the node keeps its records: embedded (files in the data directory, the default) | postgres' },
    { name: 'db.postgres.dsn_file', type: 'string', help: 'read the PostgreSQL database to use from this file (first line: postgres://user:password@host:5432/database)' },
    { name: 'db.postgres.dsn', type: 'string', help: 'the PostgreSQL database, postgres://user@host:5432/database (a password here is visible to other programs: prefer --db.postgres.dsn_file)' },
    { name: 'db.postgres.timeout', type: 'string', help: 'how long a query may go unanswered before the node takes the server for unreachable and stops (default 30s; e.g. 10s, 2m)' },
    { name: 'playground.rpclisten', type: 'string', help: "host:port for the playground chain's JSON-RPC (default 127.0.0.1:0, any free port)" },
    { name: 'listen', type: 'list', help: 'host:port to accept peers on (repeatable; default 0.0.0.0:9735)' },
    { name: 'nolisten', type: 'boolean', help: 'accept no inbound peer connections' },
    { name: 'rpclisten', type: 'string', help: 'host:port for the control channel over TCP (default: a socket in the data directory; port 0 picks one)' },
    { name: 'allow-remote', type: 'boolean', help: 'let --rpclisten use an address other computers can reach (printed as a warning)' },
    { name: 'externalip', type: 'list', help: 'host[:port] to advertise to others (repeatable)' },
    { name: 'alias', type: 'string', help: 'a name for this node' },
    { name: 'debuglevel', type: 'string', help: 'debug | info | warn | error (default info)' },
    { name: 'quiet', type: 'boolean', help: 'do not copy log lines to stderr' },
    { name: 'minchansize', type: 'string', help: 'smallest channel we open or accept, sat (default 20000)' },
    { name: 'maxchansize', type: 'string', help: 'largest channel we open or accept, sat (default 16777215)' },
    { name: 'maxlocalcsvdelay', type: 'string', help: 'longest to_self_delay we accept on our own funds, blocks (default 2016)' },
    { name: 'bitcoin.defaultremotedelay', type: 'string', help: 'to_self_delay we ask of peers, blocks (default 144)' },
    { name: 'bitcoin.defaultchanconfs', type: 'string', help: 'confirmations we want on a peer\'s funding (default 3)' },
    { name: 'bitcoin.minhtlc', type: 'string', help: 'smallest HTLC we accept, msat (default 1)' },
    { name: 'default-remote-max-htlcs', type: 'string', help: 'most HTLCs a peer may have pending to us (default 483)' },
    { name: 'chan.dust_limit', type: 'string', help: 'our dust limit, sat (default 546)' },
    { name: 'chan.reserve_pct', type: 'string', help: 'reserve we ask peers to keep, percent of capacity (default 1)' },
    { name: 'chan.max_in_flight_msat', type: 'string', help: 'most a peer may have in flight to us, msat (default: no limit)' },
    { name: 'watchtower.active', type: 'boolean', help: "run a watchtower for other nodes: it publishes the justice transaction when a client's peer publishes a revoked state" },
    { name: 'watchtower.listen', type: 'list', help: 'host:port the watchtower accepts clients on (repeatable; default 0.0.0.0:9911)' },
    { name: 'watchtower.externalip', type: 'list', help: "host[:port] to give in the watchtower's URIs (repeatable)" },
  ],
};

/** sendcoins and estimatefee take the same flags: one sends, the other only prices the send. */
function onChainSend(name: 'sendcoins' | 'estimatefee', summary: string, sweepHelp: string): ClientCommand {
  return {
    name,
    usage: `${name} --addr <address> --amt <sats> [--sat_per_vbyte N] | --sweepall`,
    summary,
    flags: [
      { name: 'addr', type: 'string', help: 'the address to pay', positional: 0 },
      { name: 'amt', type: 'string', help: 'amount in satoshis', positional: 1 },
      { name: 'sat_per_vbyte', type: 'string', help: 'fee rate (default: the chain estimate for about 6 blocks)' },
      { name: 'sweepall', type: 'boolean', help: sweepHelp },
      ...(name === 'sendcoins' ? [{ name: 'label', type: 'string' as const, help: 'a note kept with the transaction' }] : []),
    ],
    method: name,
    toParams: (f) => ({
      addr: str(f, 'addr', `the address: coulomb ${name} --addr <address> --amt <sats>`),
      ...(f.sweepall ? { sweepall: true } : { amt: int(f.amt ?? '', '--amt') }),
      ...(f.sat_per_vbyte !== undefined ? { sat_per_vbyte: Number(f.sat_per_vbyte) } : {}),
      ...(name === 'sendcoins' && typeof f.label === 'string' ? { label: f.label } : {}),
    }),
  };
}

/** A command that takes no flags and calls the API method of its name with no input. */
function noFlags(name: MethodName, summary: string): ClientCommand {
  return { name, usage: name, summary, flags: [], method: name, toParams: () => ({}) };
}

/** sendpayment and payinvoice: lncli has both names for paying an invoice. */
function payCommand(name: 'sendpayment' | 'payinvoice', summary: string): ClientCommand {
  return {
    name,
    usage: `${name} --pay_req <invoice> [--amt <sat>] [--timeout_seconds N] [--fee_limit_sat N]`,
    summary,
    flags: [
      { name: 'pay_req', type: 'string', help: 'the BOLT 11 invoice to pay', positional: 0 },
      { name: 'amt', type: 'string', help: 'amount in satoshis, for an invoice without one' },
      { name: 'timeout_seconds', type: 'string', help: 'how long to wait for the outcome (default 60)' },
      { name: 'fee_limit_sat', type: 'string', help: 'the most to pay in routing fees' },
      { name: 'force', type: 'boolean', help: 'accepted for lncli compatibility; Coulomb never asks for confirmation' },
    ],
    method: name,
    toParams: (f) => ({
      pay_req: str(f, 'pay_req', `the invoice: coulomb ${name} --pay_req <invoice>`),
      ...(f.amt !== undefined ? { amt: int(f.amt, '--amt') } : {}),
      ...(f.timeout_seconds !== undefined ? { timeout_seconds: int(f.timeout_seconds, '--timeout_seconds') } : {}),
      ...(f.fee_limit_sat !== undefined ? { fee_limit_sat: int(f.fee_limit_sat, '--fee_limit_sat') } : {}),
    }),
  };
}

export const CLIENT_COMMANDS: ClientCommand[] = [
  noFlags('getinfo', "Shows this node's identity, addresses, network and peer count."),
  {
    name: 'connect',
    usage: 'connect <pubkey>@<host>[:<port>] [--perm] [--timeout <seconds>]',
    summary: 'Connects to a Lightning node.',
    flags: [
      { name: 'addr', type: 'string', help: 'the node to connect to, <pubkey>@<host>[:<port>]', positional: 0 },
      { name: 'perm', type: 'boolean', help: 'keep reconnecting to this peer if the connection drops' },
      { name: 'timeout', type: 'string', help: 'seconds to wait for the connection (default 30)' },
    ],
    method: 'connect',
    toParams: (f) => {
      const params: Record<string, unknown> = { addr: str(f, 'addr', 'the peer address: coulomb connect <pubkey>@<host>:<port>') };
      if (f.perm) params.perm = true;
      if (f.timeout !== undefined) {
        const s = Number(f.timeout);
        if (!Number.isFinite(s) || s <= 0) throw new UsageError(`--timeout must be a number of seconds, not "${String(f.timeout)}"`);
        params.timeout_ms = Math.round(s * 1000);
      }
      return params;
    },
  },
  {
    name: 'disconnect',
    usage: 'disconnect <pubkey>',
    summary: 'Disconnects from a peer and stops reconnecting to it.',
    flags: [{ name: 'node_key', type: 'string', help: 'public key of the peer', positional: 0 }],
    method: 'disconnect',
    toParams: (f) => ({ pub_key: str(f, 'node_key', 'the peer public key: coulomb disconnect <pubkey>') }),
  },
  noFlags('listpeers', 'Lists the connected peers.'),
  {
    name: 'create',
    usage: 'create [--password_file F] [--words_file F | --words_file -] [--birthday H]',
    summary: 'Creates a wallet (24 new words, shown once) or restores one from its words.',
    flags: [
      { name: 'password_file', type: 'string', help: 'read the password from this file (for scripts; otherwise you are asked)' },
      { name: 'words_file', type: 'string', help: 'restore from the words in this file (- reads standard input) instead of making new ones' },
      { name: 'words', type: 'string', help: 'restore from these words (visible to other programs and kept in shell history: prefer --words_file)' },
      { name: 'passphrase_file', type: 'string', help: 'an optional BIP39 passphrase, read from this file' },
      { name: 'birthday', type: 'string', help: 'restore: block height to rescan from (default 0)' },
    ],
    method: 'create',
    toParams: () => ({}),
    interactive: true,
  },
  {
    name: 'unlock',
    usage: 'unlock [--password_file F]',
    summary: 'Unlocks the wallet so the node can start.',
    flags: [{ name: 'password_file', type: 'string', help: 'read the password from this file (otherwise you are asked)' }],
    method: 'unlock',
    toParams: () => ({}),
    interactive: true,
  },
  {
    name: 'newaddress',
    usage: 'newaddress p2wkh',
    summary: 'Returns a new receiving address (native segwit).',
    flags: [{ name: 'type', type: 'string', help: 'address type: p2wkh', positional: 0 }],
    method: 'newaddress',
    toParams: (f) => {
      if (f.type !== undefined && f.type !== 'p2wkh') throw new UsageError(`unsupported address type "${String(f.type)}"; Coulomb makes p2wkh (native segwit) addresses`);
      return { type: 'p2wkh' };
    },
  },
  noFlags('walletbalance', 'On-chain balance in satoshis: confirmed (spendable), unconfirmed, total, and mining rewards not yet spendable (immature).'),
  onChainSend('sendcoins', 'Sends bitcoin on-chain.', 'send everything in the wallet'),
  onChainSend('estimatefee', 'Shows what sendcoins would pay in fees, without sending anything.', 'price sending everything in the wallet'),
  {
    name: 'bumpfee',
    usage: 'bumpfee --txid <txid> --sat_per_vbyte N',
    summary: 'Replaces an unconfirmed send with one paying a higher fee (RBF).',
    flags: [
      { name: 'txid', type: 'string', help: 'the transaction to speed up', positional: 0 },
      { name: 'sat_per_vbyte', type: 'string', help: 'the new fee rate' },
    ],
    method: 'bumpfee',
    toParams: (f) => ({ txid: str(f, 'txid', 'the transaction id'), sat_per_vbyte: Number(str(f, 'sat_per_vbyte', '--sat_per_vbyte')) }),
  },
  {
    name: 'listunspent',
    usage: 'listunspent [--min_confs N]',
    summary: 'Lists the unspent coins of the wallet.',
    flags: [{ name: 'min_confs', type: 'string', help: 'only coins with at least this many confirmations' }],
    method: 'listunspent',
    toParams: (f) => (f.min_confs !== undefined ? { min_confs: int(f.min_confs, '--min_confs') } : {}),
  },
  noFlags('listchaintxns', 'Lists the on-chain transactions of the wallet.'),
  {
    name: 'openchannel',
    usage: 'openchannel --node_key <pubkey> --local_amt <sats> [--push_amt <sats>] [--private] [--sat_per_vbyte N]',
    summary: 'Opens a channel to a connected peer, funded from the wallet.',
    flags: [
      { name: 'node_key', type: 'string', help: 'the peer to open to (connect to it first)', positional: 0 },
      { name: 'local_amt', type: 'string', help: 'the channel capacity in satoshis', positional: 1 },
      { name: 'push_amt', type: 'string', help: 'satoshis to give the peer at opening' },
      { name: 'private', type: 'boolean', help: 'do not announce the channel' },
      { name: 'sat_per_vbyte', type: 'string', help: 'fee rate of the funding transaction' },
    ],
    method: 'openchannel',
    toParams: (f) => ({
      node_key: str(f, 'node_key', 'the peer: coulomb openchannel --node_key <pubkey> --local_amt <sats>'),
      local_amt: int(f.local_amt ?? '', '--local_amt'),
      ...(f.push_amt !== undefined ? { push_amt: int(f.push_amt, '--push_amt') } : {}),
      ...(f.private ? { private: true } : {}),
      ...(f.sat_per_vbyte !== undefined ? { sat_per_vbyte: Number(f.sat_per_vbyte) } : {}),
    }),
  },
  {
    name: 'estimateopen',
    usage: 'estimateopen [--local_amt <sats>] [--sat_per_vbyte N]',
    summary: 'Shows the largest channel your confirmed coins can fund, and the funding fee, without opening anything.',
    flags: [
      { name: 'local_amt', type: 'string', help: 'the channel capacity to price, in satoshis (default: the largest)', positional: 0 },
      { name: 'sat_per_vbyte', type: 'string', help: 'fee rate of the funding transaction' },
    ],
    method: 'estimateopen',
    toParams: (f) => ({
      ...(f.local_amt !== undefined ? { local_amt: int(f.local_amt, '--local_amt') } : {}),
      ...(f.sat_per_vbyte !== undefined ? { sat_per_vbyte: Number(f.sat_per_vbyte) } : {}),
    }),
  },
  noFlags('pendingchannels', 'Lists channels that are opening (with their confirmations) or closing.'),
  noFlags('listchannels', 'Lists the open channels.'),
  noFlags('closedchannels', 'Lists channels that are closed (with what the close paid you) or failed (with the reason).'),
  {
    name: 'getchannel',
    usage: 'getchannel --chan_point <txid:index>',
    summary: "Shows one channel: each side's commitment number, the old states each side revoked, the delay each side waits after a force close, and every HTLC with the block it expires at.",
    flags: [{ name: 'chan_point', type: 'string', help: 'the channel point, as listchannels shows it', positional: 0 }],
    method: 'getchannel',
    toParams: (f) => ({ ...(typeof f.chan_point === 'string' ? { chan_point: f.chan_point } : {}) }),
  },
  noFlags('pendingfunds', 'Lists every amount that is yours but not spendable yet (unconfirmed receipts, mining rewards, channels opening or closing, force-closed outputs and HTLCs), with the block each waits for.'),
  noFlags('channelbalance', 'What you can spend and receive over your channels.'),
  {
    name: 'closechannel',
    usage: 'closechannel --chan_point <txid:index> | --funding_txid <txid> --output_index <n> [--force]',
    summary:
      'Closes a channel cooperatively: both sides sign one transaction paying each its balance. With --force, without the peer: our commitment is published, the peer gets its side at once, ours comes back after the delay the peer set (to_self_delay blocks), swept to the wallet.',
    flags: [
      { name: 'chan_point', type: 'string', help: 'the channel point, as listchannels shows it', positional: 0 },
      { name: 'funding_txid', type: 'string', help: 'the funding transaction id' },
      { name: 'output_index', type: 'string', help: 'the funding output index' },
      { name: 'force', type: 'boolean', help: 'close unilaterally: publish our commitment (pendingchannels shows when our side comes back)' },
    ],
    method: 'closechannel',
    toParams: (f) => ({
      ...(f.force ? { force: true } : {}),
      ...(typeof f.chan_point === 'string' ? { chan_point: f.chan_point } : {}),
      ...(typeof f.funding_txid === 'string' ? { funding_txid: f.funding_txid } : {}),
      ...(f.output_index !== undefined ? { output_index: int(f.output_index, '--output_index') } : {}),
    }),
  },
  {
    name: 'decodepayreq',
    usage: 'decodepayreq <invoice>',
    summary: 'Shows what a Lightning invoice asks for: amount, payee, description, expiry, network.',
    flags: [{ name: 'pay_req', type: 'string', help: 'the invoice (any network)', positional: 0 }],
    method: 'decodepayreq',
    toParams: (f) => ({ pay_req: str(f, 'pay_req', 'the invoice: coulomb decodepayreq <invoice>') }),
  },
  {
    name: 'addinvoice',
    usage: 'addinvoice [--amt <sats> | --amt_msat <msat>] [--memo M] [--expiry S] [--description_hash H] [--cltv_expiry_delta N] [--private]',
    summary: 'Creates an invoice to be paid to this node.',
    flags: [
      { name: 'amt', type: 'string', help: 'amount in satoshis (none: the payer chooses)', positional: 0 },
      { name: 'amt_msat', type: 'string', help: 'amount in millisatoshis' },
      { name: 'memo', type: 'string', help: 'a description the payer sees' },
      { name: 'expiry', type: 'string', help: 'seconds the invoice stays payable (default 86400)' },
      { name: 'description_hash', type: 'string', help: 'SHA-256 of a longer description, hex (put in the invoice instead of the memo)' },
      { name: 'cltv_expiry_delta', type: 'string', help: 'min_final_cltv_expiry_delta in blocks (default 80)' },
      { name: 'private', type: 'boolean', help: 'accepted for lncli compatibility: route hints for our channels are always added (this node announces none)' },
    ],
    method: 'addinvoice',
    toParams: (f) => {
      if (f.amt !== undefined && f.amt_msat !== undefined) throw new UsageError('give --amt or --amt_msat, not both');
      return {
        ...(f.amt !== undefined ? { value: int(f.amt, '--amt') } : {}),
        ...(f.amt_msat !== undefined ? { value_msat: int(f.amt_msat, '--amt_msat') } : {}),
        ...(typeof f.memo === 'string' ? { memo: f.memo } : {}),
        ...(f.expiry !== undefined ? { expiry: int(f.expiry, '--expiry') } : {}),
        ...(typeof f.description_hash === 'string' ? { description_hash: f.description_hash } : {}),
        ...(f.cltv_expiry_delta !== undefined ? { cltv_expiry: int(f.cltv_expiry_delta, '--cltv_expiry_delta') } : {}),
        ...(f.private ? { private: true } : {}),
      };
    },
  },
  {
    name: 'listinvoices',
    usage: 'listinvoices [--pending_only] [--index_offset N] [--max_invoices N] [--reversed]',
    summary: 'Lists the invoices of this node, oldest first, a page at a time.',
    flags: [
      { name: 'pending_only', type: 'boolean', help: 'only invoices not yet paid or canceled' },
      { name: 'index_offset', type: 'string', help: 'start after this add_index (with --reversed: before it)' },
      { name: 'max_invoices', type: 'string', help: 'at most this many (default 100)' },
      { name: 'reversed', type: 'boolean', help: 'page backwards from --index_offset (or from the newest)' },
    ],
    method: 'listinvoices',
    toParams: (f) => ({
      ...(f.pending_only ? { pending_only: true } : {}),
      ...(f.index_offset !== undefined ? { index_offset: int(f.index_offset, '--index_offset') } : {}),
      ...(f.max_invoices !== undefined ? { num_max_invoices: int(f.max_invoices, '--max_invoices') } : {}),
      ...(f.reversed ? { reversed: true } : {}),
    }),
  },
  {
    name: 'lookupinvoice',
    usage: 'lookupinvoice <r_hash>',
    summary: 'Shows one invoice by its payment hash.',
    flags: [{ name: 'rhash', type: 'string', help: 'the payment hash (r_hash), hex', positional: 0 }],
    method: 'lookupinvoice',
    toParams: (f) => ({ r_hash: str(f, 'rhash', 'the payment hash: coulomb lookupinvoice <r_hash>') }),
  },
  {
    name: 'lookuppayment',
    usage: 'lookuppayment <payment_hash>',
    summary: 'Shows one outgoing payment by its payment hash.',
    flags: [{ name: 'payment_hash', type: 'string', help: 'the payment hash, hex', positional: 0 }],
    method: 'lookuppayment',
    toParams: (f) => ({ payment_hash: str(f, 'payment_hash', 'the payment hash: coulomb lookuppayment <payment_hash>') }),
  },
  {
    name: 'cancelinvoice',
    usage: 'cancelinvoice <payment_hash>',
    summary: 'Cancels an invoice that is not paid: it accepts no payment after this.',
    flags: [{ name: 'paymenthash', type: 'string', help: 'the payment hash (r_hash), hex', positional: 0 }],
    method: 'cancelinvoice',
    toParams: (f) => ({ payment_hash: str(f, 'paymenthash', 'the payment hash: coulomb cancelinvoice <payment_hash>') }),
  },
  {
    name: 'estimateroutefee',
    usage: 'estimateroutefee --pay_req <invoice> [--amt <sat>]',
    summary: 'What paying an invoice would cost in routing fees, the way the node would pay it, or why no channel can take it.',
    flags: [
      { name: 'pay_req', type: 'string', help: 'the invoice (BOLT 11)', positional: 0 },
      { name: 'amt', type: 'string', help: 'the amount in sat, for an invoice that leaves it to the payer' },
    ],
    method: 'estimateroutefee',
    toParams: (f) => ({ payment_request: str(f, 'pay_req', 'the invoice: coulomb estimateroutefee --pay_req <invoice>'), ...(f.amt !== undefined ? { amt_sat: int(f.amt, '--amt') } : {}) }),
  },
  payCommand('sendpayment', 'Pays a Lightning invoice and prints the outcome (preimage, fee, route) or why it failed.'),
  payCommand('payinvoice', 'Pays a Lightning invoice (the same as sendpayment).'),
  {
    name: 'listpayments',
    usage: 'listpayments [--index_offset N] [--max_payments N] [--reversed] [--include_incomplete=false]',
    summary: 'Lists the payments this node sent or is sending, with each attempt, oldest first (every one, or a page).',
    flags: [
      { name: 'index_offset', type: 'string', help: 'start after this payment_index (with --reversed: before it)' },
      { name: 'max_payments', type: 'string', help: 'at most this many (default: every payment)' },
      { name: 'reversed', type: 'boolean', help: 'page backwards from --index_offset (or from the newest)' },
      { name: 'include_incomplete', type: 'boolean', help: 'payments in flight and failed ones too (default true; =false for succeeded only)' },
    ],
    method: 'listpayments',
    toParams: (f) => ({
      ...(f.index_offset !== undefined ? { index_offset: int(f.index_offset, '--index_offset') } : {}),
      ...(f.max_payments !== undefined ? { max_payments: int(f.max_payments, '--max_payments') } : {}),
      ...(f.reversed ? { reversed: true } : {}),
      ...(f.include_incomplete === false ? { include_incomplete: false } : {}),
    }),
  },
  EXPORT_HISTORY_COMMAND,
  {
    name: 'playground',
    usage: 'playground mine <blocks> [--addr A] | playground faucet <address> <sats>',
    summary: 'Playground only: mine blocks, or get test coins.',
    flags: [{ name: 'addr', type: 'string', help: 'mine: pay the block rewards to this address' }],
    method: 'playground_mine',
    toParams: (f, p) => {
      if (p[0] === 'mine') return { blocks: int(p[1] ?? '1', 'the number of blocks'), ...(typeof f.addr === 'string' ? { addr: f.addr } : {}) };
      if (p[0] === 'faucet') {
        if (!p[1]) throw new UsageError('give an address: coulomb playground faucet <address> <sats>');
        return { addr: p[1], amt: int(p[2] ?? '', 'the amount in satoshis') };
      }
      throw new UsageError('use "coulomb playground mine <blocks>" or "coulomb playground faucet <address> <sats>"');
    },
  },
  noFlags('stop', 'Stops the daemon gracefully.'),
  ...BACKUP_COMMANDS,
  ...TOWER_COMMANDS,
];
