/**
 * Desktop notifications, off by default: a payment received, a channel opened, closed or force-closed,
 * told by the node's events (never by polling). The page's Notification API, which Electron shows as the
 * system's own notifications and a browser as its own. What each says is worked out here, without React.
 */
import type { NodeEvent } from '../core/api/contract.ts';
import { formatSats, shortId } from './format.ts';
import type { Unit } from './format.ts';

/** Where the setting is kept (per browser profile, as the theme is), and its values. */
export const NOTIFY_KEY = 'coulomb.notifications';
export type NotifySetting = 'on' | 'off';

export interface Note {
  title: string;
  body: string;
  /** Notifications with the same tag replace each other (one per payment, one per channel step). */
  tag: string;
}

/** What a node event says as a notification, or undefined for the events that say nothing. */
export function notificationFor(e: NodeEvent, unit: Unit, known: Record<string, string>): Note | undefined {
  const who = (pubkey: string): string => known[pubkey] ?? shortId(pubkey);
  switch (e.type) {
    case 'invoice_paid':
      return { title: 'Payment received', body: `+${formatSats(e.amt_paid_sat, unit)}${e.memo ? ` · ${e.memo}` : ''}`, tag: `invoice:${e.r_hash}` };
    case 'channel_opened':
      return { title: 'Channel open', body: `A ${formatSats(e.channel.capacity, unit)} channel with ${who(e.channel.remote_pubkey)} is ready for payments.`, tag: `channel:${e.channel.channel_point}` };
    case 'channel_closed':
      return { title: 'Channel closed', body: `The channel with ${who(e.channel.remote_pubkey)} is closed; your side is back in your on-chain balance.`, tag: `channel:${e.channel.channel_point}` };
    case 'channel_state_changed':
      if (e.channel.state !== 'FORCE_CLOSING') return undefined;
      return { title: 'Channel force-closed', body: `The channel with ${who(e.channel.remote_pubkey)} is closing on chain; Channels shows when your side comes back.`, tag: `channel:${e.channel.channel_point}` };
    default:
      return undefined;
  }
}

/** The page's Notification API, as far as this file uses it (this file is also read outside a page). */
interface NotificationApi {
  readonly permission: string;
  requestPermission(): Promise<string>;
  new (title: string, options: { body: string; tag: string }): unknown;
}

const notificationApi = (): NotificationApi | undefined => (globalThis as { Notification?: NotificationApi }).Notification;

/** Whether this page can show notifications at all (Notification API present). */
export function notificationsAvailable(): boolean {
  return notificationApi() !== undefined;
}

/** Asks the system for permission, once the user turned notifications on: whether they may be shown. */
export async function askPermission(): Promise<boolean> {
  const api = notificationApi();
  if (!api) return false;
  return (api.permission === 'granted' ? 'granted' : await api.requestPermission()) === 'granted';
}

/** Shows one, when allowed. */
export function show(n: Note): void {
  const api = notificationApi();
  if (!api || api.permission !== 'granted') return;
  new api(n.title, { body: n.body, tag: n.tag });
}
