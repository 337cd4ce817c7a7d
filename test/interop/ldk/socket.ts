/**
 * Glue between one Node `net.Socket` and LDK's `PeerManager`: LDK owns the Lightning protocol
 * (BOLT 8 handshake, BOLT 1 init/ping), this class only moves bytes and reports socket state.
 *
 * Rules LDK sets for a `SocketDescriptor` (see `PeerManager` docs in the bindings):
 * - `send_data` returns how many bytes it took; if fewer than offered, LDK waits for
 *   `write_buffer_space_avail` before offering more.
 * - `read_event` returning `true` asks us to stop reading until a later `send_data` call passes
 *   `resume_read = true`.
 * - Callbacks run inside LDK calls, so they must never call back into the `PeerManager`.
 * - After `disconnect_socket` (or an `Err` from LDK) the peer is already forgotten and
 *   `socket_disconnected` is not needed; calling it anyway is harmless.
 */
import type { Socket } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import * as ldk from 'lightningdevkit';

let nextId = 1n;

export interface SocketHooks {
  /** Called after every batch that may have changed LDK's state (reads, drains, close). */
  afterBatch(): void;
  /** Called once when the socket is gone (either side closed it). */
  onClosed(glue: LdkSocket): void;
  log(line: string): void;
}

export class LdkSocket {
  readonly id = nextId++;
  readonly descriptor: ldk.SocketDescriptor;
  private writeBlocked = false;
  private readPaused = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly peerManager: ldk.PeerManager,
    private readonly hooks: SocketHooks,
  ) {
    const id = this.id;
    // This object is held weakly by LDK; the LdkSocket (kept in the node's socket set) holds it.
    this.descriptor = ldk.SocketDescriptor.new_impl({
      send_data: (data, resumeRead) => this.sendData(data, resumeRead),
      disconnect_socket: () => {
        this.closed = true;
        socket.destroy();
      },
      eq: (other) => other.hash() === id,
      hash: () => id,
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => hooks.log(`socket ${id}: ${err.message}`));
    socket.on('close', () => this.onClose());
  }

  /** The peer's address in LDK's form, reported back to it in our `init` (BOLT 1 remote_addr). */
  remoteAddress(): ldk.Option_SocketAddressZ {
    const host = this.socket.remoteAddress;
    const port = this.socket.remotePort;
    if (host && port !== undefined && isIPv4(host)) {
      const addr = Uint8Array.from(host.split('.').map(Number));
      return ldk.Option_SocketAddressZ.constructor_some(ldk.SocketAddress.constructor_tcp_ip_v4(addr, port));
    }
    if (host && port !== undefined && isIPv6(host) && !host.includes('.')) {
      return ldk.Option_SocketAddressZ.constructor_some(
        ldk.SocketAddress.constructor_tcp_ip_v6(ipv6Bytes(host), port),
      );
    }
    return ldk.Option_SocketAddressZ.constructor_none();
  }

  /** Writes bytes LDK handed back outside `send_data` (the first act of an outbound handshake). */
  writeInitial(bytes: Uint8Array): void {
    if (!this.socket.write(bytes)) this.writeBlocked = true;
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private sendData(data: Uint8Array, resumeRead: boolean): number {
    if (this.closed || this.socket.destroyed) return 0;
    if (resumeRead && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
    if (this.writeBlocked || data.length === 0) return 0;
    // Node copies into its own buffer, so everything offered is taken; when the kernel buffer is
    // full we refuse further data until 'drain' and tell LDK then.
    if (!this.socket.write(data)) this.writeBlocked = true;
    return data.length;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    const res = this.peerManager.read_event(this.descriptor, chunk);
    if (res instanceof ldk.Result_boolPeerHandleErrorZ_OK) {
      if (res.res && !this.readPaused) {
        this.readPaused = true;
        this.socket.pause();
      }
    } else {
      // LDK has already dropped the peer; we only have to close the socket.
      this.hooks.log(`socket ${this.id}: LDK rejected incoming data, closing`);
      this.destroy();
    }
    this.hooks.afterBatch();
  }

  private onDrain(): void {
    if (this.closed || !this.writeBlocked) return;
    this.writeBlocked = false;
    const res = this.peerManager.write_buffer_space_avail(this.descriptor);
    if (!res.is_ok()) this.destroy();
    this.hooks.afterBatch();
  }

  private onClose(): void {
    // A no-op inside LDK when LDK itself asked for the disconnect.
    this.peerManager.socket_disconnected(this.descriptor);
    this.closed = true;
    this.hooks.onClosed(this);
    this.hooks.afterBatch();
  }
}

function ipv6Bytes(host: string): Uint8Array {
  const [head = '', tail = ''] = host.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = host.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}
