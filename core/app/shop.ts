/**
 * The playground shop: a third Coulomb node that sells pixels of a shared canvas for Lightning
 * invoices, as pixel-drawing sites on Lightning do. Its channel comes from the playground's
 * counterparty, so a user who has a channel with the counterparty pays the shop through it: a real
 * two-hop payment (user → counterparty → shop).
 *
 * The shop serves a small web page on 127.0.0.1: pick a colour, click a pixel, get an invoice (text, QR
 * code, lightning: link); the pixel appears once the invoice is paid. The canvas is kept in the shop's
 * data directory.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { renderSVG } from 'uqr';
import { Counterparty } from './counterparty.ts';
import type { BitcoindRpc } from '../chain/index.ts';
import type { Logger } from '../log/logger.ts';
import { readFileIfExists, writeFileDurable } from '../store/durable-file.ts';
import { SHOP_CSS, SHOP_HTML, SHOP_JS } from './shop-page.ts';
import { localOrigins } from './web-server.ts';

export const CANVAS_SIZE = 24;
export const PIXEL_PRICE_SAT = 100;
/** The counterparty opens the shop's channel with this much, all on its side. */
const SHOP_CHANNEL_SAT = 2_000_000;
/** An order is a few dozen bytes of JSON. */
const MAX_ORDER_BYTES = 1000;

const order = z.object({ x: z.number().int().min(0).max(CANVAS_SIZE - 1), y: z.number().int().min(0).max(CANVAS_SIZE - 1), color: z.string().regex(/^#[0-9a-f]{6}$/i) }).strict();

interface Canvas {
  /** `x,y` → colour of every pixel sold. */
  pixels: Record<string, string>;
}

interface Pending {
  x: number;
  y: number;
  color: string;
}

export class Shop {
  readonly node: Counterparty;
  private server: Server | undefined;
  private canvas: Canvas = { pixels: {} };
  /** Invoices handed out, by payment hash: what each one buys. */
  private readonly orders = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  /** The app's own Host and Origin check: only the user's browser, on this page, reaches the shop. */
  private origins: ReturnType<typeof localOrigins> | undefined;
  url = '';

  constructor(private readonly opts: { appDir: string; playgroundDir: string; rpc: BitcoindRpc; faucetAddress: string; log: Logger; counterparty: Counterparty }) {
    this.node = new Counterparty({ ...opts, name: 'playground-shop', fund: false });
  }

  private get canvasFile(): string {
    return join(this.opts.appDir, 'networks', 'playground-shop', 'canvas.json');
  }

  get ready(): boolean {
    return this.node.ready && !!this.url;
  }

  async start(): Promise<void> {
    await this.node.start();
    const saved = await readFileIfExists(this.canvasFile);
    if (saved) this.canvas = JSON.parse(saved.toString('utf8')) as Canvas;
    await this.ensureChannel();
    this.server = createServer((req, res) => void this.serve(req, res).catch(() => res.headersSent || res.writeHead(500).end()));
    this.server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const port = (this.server.address() as AddressInfo).port;
    this.origins = localOrigins('127.0.0.1', () => port);
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    // Paid orders become pixels; the invoice registry is the truth, looked at every second.
    this.timer = setInterval(() => void this.collect(), 1000);
    this.timer.unref();
    this.opts.log.info('playground shop is open', { url: this.url, node_id: this.node.node.nodeId });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server?.closeAllConnections();
    await this.node.stop();
  }

  /** The counterparty keeps a connection and a channel to the shop (opened once; the playground mines it). */
  private async ensureChannel(): Promise<void> {
    const cp = this.opts.counterparty.node;
    const shop = this.node.node;
    const uri = shop.uris()[0]!;
    const port = Number(uri.split(':').pop());
    if (cp.peers.get(shop.nodeId)?.state !== 'ready') await cp.peers.connect(shop.nodeId, '127.0.0.1', port, { perm: true, timeoutMs: 10_000 });
    const h = cp.handlers();
    const open = (await h.listchannels({})).channels.some((c) => c.remote_pubkey === shop.nodeId);
    const pending = (await h.pendingchannels({})).pending_open_channels.some((p) => p.channel.remote_pubkey === shop.nodeId);
    if (!open && !pending) await h.openchannel({ node_key: shop.nodeId, local_amt: SHOP_CHANNEL_SAT, private: true });
  }

  /** True while the shop's channel waits for confirmations (the playground's miner looks at this). */
  async channelWaits(): Promise<boolean> {
    if (!this.node.ready) return false;
    const p = await this.node.node.handlers().pendingchannels({});
    return p.pending_open_channels.length > 0;
  }

  private async collect(): Promise<void> {
    if (!this.node.ready || !this.orders.size) return;
    let changed = false;
    for (const [hash, o] of [...this.orders]) {
      const inv = await this.node.node.invoices.lookup(hash);
      if (inv?.state === 'SETTLED') {
        this.canvas.pixels[`${o.x},${o.y}`] = o.color;
        this.orders.delete(hash);
        changed = true;
      } else if (!inv || inv.state === 'CANCELED') this.orders.delete(hash);
    }
    if (changed) await writeFileDurable(this.canvasFile, JSON.stringify(this.canvas) + '\n', 0o600);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown): void => {
      const data = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(data);
    };
    const page = (type: string, body: string): void => {
      res.writeHead(200, { 'content-type': type, 'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'", 'cache-control': 'no-store' }).end(body);
    };
    if (!this.origins?.hostOk(req)) return void res.writeHead(421, { 'content-type': 'text/plain' }).end('wrong Host header');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://shop');
    } catch {
      return json(400, { error: 'malformed address' });
    }
    if (req.method === 'GET' && url.pathname === '/') return page('text/html; charset=utf-8', SHOP_HTML.replace('{{PRICE}}', String(PIXEL_PRICE_SAT)));
    if (req.method === 'GET' && url.pathname === '/shop.js') return page('text/javascript', SHOP_JS.replace('{{SIZE}}', String(CANVAS_SIZE)));
    if (req.method === 'GET' && url.pathname === '/shop.css') return page('text/css', SHOP_CSS);
    if (req.method === 'GET' && url.pathname === '/api/canvas') return json(200, { size: CANVAS_SIZE, price_sat: PIXEL_PRICE_SAT, pixels: this.canvas.pixels, open: this.node.ready });
    if (req.method === 'POST' && url.pathname === '/api/order') {
      if (!this.origins.originOk(req)) return json(403, { error: 'Orders come only from the shop\'s own page; open it from the app.' });
      if ((req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/json') return json(415, { error: 'An order is sent as JSON (Content-Type: application/json).' });
      if (Number(req.headers['content-length'] ?? 0) > MAX_ORDER_BYTES) return json(413, { error: 'The order is too large; an order is {"x","y","color"}.' });
      if (!this.node.ready) return json(503, { error: 'the shop is still opening; try again in a moment' });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ORDER_BYTES) return json(413, { error: 'The order is too large; an order is {"x","y","color"}.' });
        chunks.push(chunk);
      }
      const body = Buffer.concat(chunks).toString('utf8');
      let o;
      try {
        o = order.parse(JSON.parse(body));
      } catch {
        return json(400, { error: 'an order is {"x":0-23,"y":0-23,"color":"#rrggbb"}' });
      }
      const inv = await this.node.node.handlers().addinvoice({ value: PIXEL_PRICE_SAT, memo: `Pixel (${o.x}, ${o.y}) in ${o.color.toLowerCase()} at the playground shop`, expiry: 600, private: true });
      this.orders.set(inv.r_hash, { x: o.x, y: o.y, color: o.color.toLowerCase() });
      const qr = renderSVG(`lightning:${inv.payment_request}`, { border: 2, pixelSize: 6 });
      return json(200, { payment_request: inv.payment_request, r_hash: inv.r_hash, qr: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qr)}` });
    }
    const m = /^\/api\/order\/([0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const inv = await this.node.node.invoices.lookup(m[1]!);
      if (!inv) return json(404, { error: 'no such order' });
      await this.collect();
      return json(200, { state: inv.state });
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}
