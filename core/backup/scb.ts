/**
 * Static channel backups: what it takes to get a channel's funds back with the peer's help after
 * everything else is lost. A backup holds no secret: each channel's keys are derived again from the
 * wallet's seed at the channel's key index (core/keys/channel-keys.ts). What it holds is who the peer
 * is and where to reach it, the funding outpoint, the key index, and the channel's terms; with them a
 * restored node asks the peer to close the channel with its commitment (channel_reestablish with
 * data-loss protection, BOLT 2) and then sweeps its own output from it.
 *
 * A backup says nothing about the channel's balance or HTLCs, so it never lets us publish a
 * commitment of ours: a commitment from a backup may be revoked, and publishing it would hand the
 * peer everything.
 *
 * The file (`channel.backup`) and the blob given to peers (BOLT 1 peer storage) are the same bytes:
 *
 *   magic "CLMBSCB" (7) | version (1) | nonce (12) | ChaCha20-Poly1305(JSON, padded) + tag (16)
 *
 * encrypted with a key derived from the wallet's seed (HKDF-SHA256, with its own purpose label), so
 * the 24 words open it and nothing else does. Pure: no I/O.
 */
import { randomBytes } from 'node:crypto';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { defaultAead, TAG_LENGTH } from '../crypto/aead.ts';
import { CryptoError } from '../crypto/errors.ts';
import type { Network } from '../keys/node-key.ts';

export const SCB_MAGIC = new TextEncoder().encode('CLMBSCB');
/** The format this code writes; older ones are read as long as they are listed in `readVersion`. */
export const SCB_VERSION = 1;
const NONCE_LENGTH = 12;
const HEADER_LENGTH = SCB_MAGIC.length + 1 + NONCE_LENGTH;
/** Plaintext is padded to a multiple of this, so a blob's size says little about the number of channels. */
const PAD_TO = 256;
/** The key's purpose label: a key for nothing but channel backups. */
const KEY_INFO = new TextEncoder().encode('coulomb/channel-backup/v1');
const KEY_SALT = new TextEncoder().encode('coulomb');

/** One channel, as much as recovering its funds with the peer's help needs (BOLT 2, BOLT 3, BOLT 5). */
export interface ChannelBackup {
  /** The funding outpoint, `txid:vout`. */
  chanPoint: string;
  /** BOLT 2 channel_id (hex), what the reestablish names. */
  channelId: string;
  /** The peer's node id (hex). */
  peer: string;
  /** Where we reached the peer, most recent first. */
  addresses: { host: string; port: number }[];
  /** The BIP32 index of the channel's keys: m/1017'/coin'/family'/0/index (core/keys/channel-keys.ts). */
  keyIndex: number;
  channelType: 'anchors' | 'static_remotekey';
  /** Whether we opened (and funded) the channel. */
  funder: boolean;
  capacitySat: bigint;
  /** How long our own output waits on our commitment, and the peer's on theirs (BOLT 2 to_self_delay). */
  localToSelfDelay: number;
  remoteToSelfDelay: number;
  /** Short channel id as `block x tx x output`, once the funding confirmed. */
  shortChannelId?: string;
  /** The peer's basepoints (hex), so a monitor can recognise its commitments on chain. */
  remote?: { fundingPubkey: string; paymentBasepoint: string; delayedPaymentBasepoint: string; revocationBasepoint: string; htlcBasepoint: string };
}

export interface BackupSet {
  version: typeof SCB_VERSION;
  network: Network;
  /** Our node id (hex): a backup of another node opened with our seed is refused. */
  nodeId: string;
  /** When this backup was made (ms since 1970): a later one replaces an earlier one. */
  createdAtMs: number;
  channels: ChannelBackup[];
}

export class BackupError extends Error {
  constructor(
    readonly code: 'not_a_backup' | 'newer_version' | 'wrong_seed' | 'damaged' | 'other_network' | 'other_node',
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

/** The key that encrypts channel backups, derived from the wallet's seed for this purpose only. */
export function backupKey(seed: Uint8Array): Uint8Array {
  return nobleHkdf(sha256, seed, KEY_SALT, KEY_INFO, 32);
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** The backup's JSON (bigint as a decimal string), padded with spaces (JSON ignores them). */
function plaintextOf(set: BackupSet): Uint8Array {
  const json = enc.encode(JSON.stringify({ ...set, channels: set.channels.map((c) => ({ ...c, capacitySat: c.capacitySat.toString() })) }));
  const out = new Uint8Array(Math.ceil((json.length + 1) / PAD_TO) * PAD_TO).fill(0x20);
  out.set(json);
  return out;
}

/** Encrypts a backup set with a fresh random nonce: `nonce` only for tests that need fixed bytes. */
export function encryptBackup(set: BackupSet, key: Uint8Array, nonce: Uint8Array = new Uint8Array(randomBytes(NONCE_LENGTH))): Uint8Array {
  const header = new Uint8Array(HEADER_LENGTH);
  header.set(SCB_MAGIC);
  header[SCB_MAGIC.length] = SCB_VERSION;
  header.set(nonce, SCB_MAGIC.length + 1);
  // The header is authenticated: a changed version byte or nonce fails the tag.
  const body = defaultAead().encrypt(key, nonce, header, plaintextOf(set));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** The version byte of a blob that starts like a backup, or a BackupError. */
export function readVersion(blob: Uint8Array): number {
  if (blob.length < HEADER_LENGTH + TAG_LENGTH || !SCB_MAGIC.every((b, i) => blob[i] === b)) {
    throw new BackupError('not_a_backup', 'This is not a Coulomb channel backup (it does not start like one). Choose the channel.backup file Coulomb wrote, or one exported with exportchanbackup.');
  }
  const v = blob[SCB_MAGIC.length]!;
  if (v !== SCB_VERSION) {
    throw new BackupError('newer_version', `This channel backup has format version ${v}, which this Coulomb does not read (it reads version ${SCB_VERSION}). Update Coulomb, then try again.`);
  }
  return v;
}

/** Decrypts and checks a backup: its format, that our seed made it, and that it is well-formed. */
export function decryptBackup(blob: Uint8Array, key: Uint8Array, expect?: { network?: Network; nodeId?: string }): BackupSet {
  readVersion(blob);
  const header = blob.subarray(0, HEADER_LENGTH);
  const nonce = blob.subarray(SCB_MAGIC.length + 1, HEADER_LENGTH);
  let plain: Uint8Array;
  try {
    plain = defaultAead().decrypt(key, nonce, header, blob.subarray(HEADER_LENGTH));
  } catch (e) {
    if (e instanceof CryptoError) {
      throw new BackupError('wrong_seed', 'This channel backup does not open with this wallet\'s seed: it was made by another wallet, or the file is damaged. Use the backup of the wallet whose 24 words were entered.');
    }
    throw e;
  }
  let set: BackupSet;
  try {
    set = parseSet(JSON.parse(dec.decode(plain)));
  } catch (e) {
    throw new BackupError('damaged', `This channel backup opened but its content is not readable (${(e as Error).message}); it cannot be used.`);
  }
  if (expect?.network && set.network !== expect.network) {
    throw new BackupError('other_network', `This channel backup is for ${set.network}, but this node runs on ${expect.network}. Start the node on ${set.network} to restore it.`);
  }
  if (expect?.nodeId && set.nodeId !== expect.nodeId) {
    throw new BackupError('other_node', `This channel backup belongs to node ${set.nodeId}, not to this node (${expect.nodeId}): the same words with another passphrase make another node.`);
  }
  return set;
}

const HEX = /^[0-9a-f]*$/;

function need(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

function hexField(v: unknown, bytes: number, what: string): string {
  need(typeof v === 'string' && v.length === bytes * 2 && HEX.test(v), `${what} is not ${bytes} bytes of hex`);
  return v as string;
}

/** Checks every field: a backup may come back from a peer, and a peer may lie. */
function parseSet(raw: unknown): BackupSet {
  const o = raw as Record<string, unknown>;
  need(!!o && typeof o === 'object', 'not an object');
  need(o.version === SCB_VERSION, 'unknown version');
  need(typeof o.network === 'string', 'no network');
  need(typeof o.createdAtMs === 'number' && Number.isSafeInteger(o.createdAtMs), 'no creation time');
  need(Array.isArray(o.channels), 'no channel list');
  return {
    version: SCB_VERSION,
    network: o.network as Network,
    nodeId: hexField(o.nodeId, 33, 'node id'),
    createdAtMs: o.createdAtMs as number,
    channels: (o.channels as unknown[]).map(parseChannel),
  };
}

function parseChannel(raw: unknown): ChannelBackup {
  const c = raw as Record<string, unknown>;
  need(!!c && typeof c === 'object', 'a channel is not an object');
  need(typeof c.chanPoint === 'string' && /^[0-9a-f]{64}:\d{1,5}$/.test(c.chanPoint), 'a channel point is malformed');
  need(typeof c.keyIndex === 'number' && Number.isInteger(c.keyIndex) && c.keyIndex >= 0 && c.keyIndex < 2 ** 31, 'a key index is out of range');
  need(c.channelType === 'anchors' || c.channelType === 'static_remotekey', 'a channel type is unknown');
  need(typeof c.funder === 'boolean', 'a funder flag is missing');
  need(typeof c.capacitySat === 'string' && /^\d{1,16}$/.test(c.capacitySat), 'a capacity is malformed');
  need(typeof c.localToSelfDelay === 'number' && typeof c.remoteToSelfDelay === 'number', 'a to_self_delay is missing');
  need(Array.isArray(c.addresses) && (c.addresses as unknown[]).every((a) => !!a && typeof (a as { host?: unknown }).host === 'string' && Number.isInteger((a as { port?: unknown }).port)), 'an address list is malformed');
  const remote = c.remote as Record<string, unknown> | undefined;
  return {
    chanPoint: c.chanPoint as string,
    channelId: hexField(c.channelId, 32, 'a channel id'),
    peer: hexField(c.peer, 33, 'a peer id'),
    addresses: (c.addresses as { host: string; port: number }[]).map((a) => ({ host: a.host, port: a.port })),
    keyIndex: c.keyIndex as number,
    channelType: c.channelType as ChannelBackup['channelType'],
    funder: c.funder as boolean,
    capacitySat: BigInt(c.capacitySat as string),
    localToSelfDelay: c.localToSelfDelay as number,
    remoteToSelfDelay: c.remoteToSelfDelay as number,
    ...(typeof c.shortChannelId === 'string' ? { shortChannelId: c.shortChannelId } : {}),
    ...(remote
      ? {
          remote: {
            fundingPubkey: hexField(remote.fundingPubkey, 33, 'a funding key'),
            paymentBasepoint: hexField(remote.paymentBasepoint, 33, 'a payment basepoint'),
            delayedPaymentBasepoint: hexField(remote.delayedPaymentBasepoint, 33, 'a delayed payment basepoint'),
            revocationBasepoint: hexField(remote.revocationBasepoint, 33, 'a revocation basepoint'),
            htlcBasepoint: hexField(remote.htlcBasepoint, 33, 'an HTLC basepoint'),
          },
        }
      : {}),
  };
}

/**
 * What changes a backup: the set of channels and what recovering each needs. Not balances or
 * HTLCs (a backup does not carry them), so payments never rewrite it.
 */
export function backupFingerprint(channels: readonly ChannelBackup[]): string {
  const sorted = [...channels].sort((a, b) => (a.chanPoint < b.chanPoint ? -1 : a.chanPoint > b.chanPoint ? 1 : 0));
  return JSON.stringify(sorted.map((c) => ({ ...c, capacitySat: c.capacitySat.toString() })));
}
