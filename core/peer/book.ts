/**
 * The peer book (`peers.json`): the peers to connect to again after a restart — those connected with
 * `connect --perm` — and the addresses we know for each peer, which are the addresses we dialled it
 * at. A peer that only ever connected to us has no address here: init's `remote_addr` is its view of
 * us, not its own address, so for such a peer we wait until it connects again.
 *
 * Written durably before the connection it describes carries anything, so a channel opened over a
 * connection we dialled always finds its peer's address after a restart.
 */
import { openStore } from '../store/store.ts';
import type { Store } from '../store/store.ts';

export interface PeerAddress {
  host: string;
  port: number;
}

interface PeerEntry {
  /** Most recently dialled first. */
  addresses: PeerAddress[];
  /** Connected with `connect --perm`: reconnected whether or not there is a channel with it. */
  perm: boolean;
}

interface PeersDb {
  peers: Record<string, PeerEntry>;
}

/** Addresses kept per peer: enough for a node that moved, not a list that grows forever. */
const MAX_ADDRESSES = 4;

export class PeerBook {
  private constructor(private readonly db: Store<PeersDb>) {}

  static async open(dir: string): Promise<PeerBook> {
    return new PeerBook(await openStore<PeersDb>({ dir, name: 'peers', version: 1, migrations: [], defaults: () => ({ peers: {} }) }));
  }

  /** Every peer in the book, with its addresses (most recent first) and whether it is permanent. */
  list(): { pubkey: string; addresses: PeerAddress[]; perm: boolean }[] {
    return Object.entries(this.db.data.peers).map(([pubkey, e]) => ({ pubkey, addresses: e.addresses.map((a) => ({ ...a })), perm: e.perm }));
  }

  addresses(pubkey: string): PeerAddress[] {
    return (this.db.data.peers[pubkey]?.addresses ?? []).map((a) => ({ ...a }));
  }

  isPerm(pubkey: string): boolean {
    return this.db.data.peers[pubkey]?.perm ?? false;
  }

  /** Records that we reached `pubkey` at this address; durable when this resolves. */
  async noteDialled(pubkey: string, host: string, port: number): Promise<void> {
    const first = this.db.data.peers[pubkey]?.addresses[0];
    if (first && first.host === host && first.port === port) return;
    await this.db.update((d) => {
      const e = (d.peers[pubkey] ??= { addresses: [], perm: false });
      e.addresses = [{ host, port }, ...e.addresses.filter((a) => a.host !== host || a.port !== port)].slice(0, MAX_ADDRESSES);
    });
  }

  /** Marks a peer permanent (with the address it is to be dialled at) or not; durable when this resolves. */
  async setPerm(pubkey: string, perm: boolean, at?: PeerAddress): Promise<void> {
    if (!perm && !this.db.data.peers[pubkey]?.perm) return;
    await this.db.update((d) => {
      const e = (d.peers[pubkey] ??= { addresses: [], perm: false });
      e.perm = perm;
      if (at) e.addresses = [{ ...at }, ...e.addresses.filter((a) => a.host !== at.host || a.port !== at.port)].slice(0, MAX_ADDRESSES);
    });
  }

  /** Forgets the peers that are neither permanent nor wanted (no channel with them any more). */
  async prune(wanted: (pubkey: string) => boolean): Promise<void> {
    const gone = Object.entries(this.db.data.peers).filter(([pk, e]) => !e.perm && !wanted(pk)).map(([pk]) => pk);
    if (gone.length === 0) return;
    await this.db.update((d) => {
      for (const pk of gone) delete d.peers[pk];
    });
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
