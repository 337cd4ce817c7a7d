/**
 * The one API contract of a Coulomb node. The CLI (over the local control channel), the Electron IPC
 * bridge and the browser-mode WebSocket bridge all speak it: each method has an input schema (checked
 * before any handler runs) and an output type. Field names follow lncli's JSON so lnd users feel at home.
 */
import { z } from 'zod';

const pubkeyHex = z.string().regex(/^(02|03)[0-9a-fA-F]{64}$/, 'a node public key is 66 hex characters starting with 02 or 03');

export const methodSchemas = {
  getinfo: z.object({}).strict(),
  connect: z
    .object({
      /** `<pubkey>@<host>[:<port>]` */
      addr: z.string().min(1).max(600),
      /** Keep reconnecting to this peer when the connection drops (lncli's --perm). */
      perm: z.boolean().optional(),
      timeout_ms: z.number().int().min(100).max(600_000).optional(),
    })
    .strict(),
  disconnect: z.object({ pub_key: pubkeyHex }).strict(),
  listpeers: z.object({}).strict(),
  stop: z.object({}).strict(),
} as const;

export type MethodName = keyof typeof methodSchemas;
export type MethodInput<M extends MethodName> = z.infer<(typeof methodSchemas)[M]>;

export interface FeatureView {
  name: string;
  is_required: boolean;
  is_known: boolean;
}

export interface GetInfoResponse {
  version: string;
  identity_pubkey: string;
  alias: string;
  num_peers: number;
  uris: string[];
  network: string;
  chains: { chain: 'bitcoin'; network: string }[];
  features: Record<string, FeatureView>;
}

export interface PeerView {
  pub_key: string;
  address: string;
  inbound: boolean;
  bytes_sent: string;
  bytes_recv: string;
  /** Round trip of the last ping, in microseconds (as lncli prints it); "0" before the first pong. */
  ping_time: string;
  /** Seconds since the connection completed init. */
  connected_seconds: number;
  features: Record<string, FeatureView>;
  perm: boolean;
}

export interface MethodOutputs {
  getinfo: GetInfoResponse;
  connect: Record<string, never>;
  disconnect: Record<string, never>;
  listpeers: { peers: PeerView[] };
  stop: { status: string };
}
export type MethodOutput<M extends MethodName> = MethodOutputs[M];

/** What went wrong, as data. `code` tells a client what kind of problem it is; `message` is for people. */
export type ApiErrorCode = 'invalid_argument' | 'not_found' | 'already_exists' | 'unavailable' | 'failed_precondition' | 'internal' | 'unauthenticated';

export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export type ApiResult<T> = { ok: true; result: T } | { ok: false; error: { code: ApiErrorCode; message: string } };

export type ApiHandlers = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>> };

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methodSchemas, name);
}
