/**
 * The watchtower at the node's edge: opening the tower (when `--watchtower.active`) and the client
 * together, and the API methods towerinfo, wtclient_add, wtclient_towers and wtclient_stats (lncli's
 * `tower info` and `wtclient` shapes). Domain errors become ApiErrors here.
 */
import { ApiError } from '../api/contract.ts';
import type { ApiHandlers } from '../api/contract.ts';
import { formatHostPort } from '../peer/address.ts';
import { WatchTower } from './tower.ts';
import type { TowerOptions } from './tower.ts';
import { TowerAddError, WtClient } from './wtclient.ts';
import type { WtClientOptions } from './wtclient.ts';

export interface TowerServices {
  tower?: WatchTower;
  client: WtClient;
}

export async function openTowerServices(o: Omit<TowerOptions, 'log'> & Omit<WtClientOptions, 'log'> & { log: TowerOptions['log'] }): Promise<TowerServices> {
  const tower = o.config.active ? await WatchTower.open({ ...o, log: o.log.child('WTWR') }) : undefined;
  try {
    const client = await WtClient.open({ ...o, log: o.log.child('WTCL') });
    return { ...(tower ? { tower } : {}), client };
  } catch (e) {
    await tower?.close();
    throw e;
  }
}

export async function closeTowerServices(s: TowerServices): Promise<void> {
  s.client.close();
  await s.tower?.close();
}

type TowerMethods = Pick<ApiHandlers, 'towerinfo' | 'wtclient_add' | 'wtclient_towers' | 'wtclient_stats'>;

export function towerHandlers(get: () => TowerServices): TowerMethods {
  return {
    towerinfo: async () => {
      const t = get().tower;
      if (!t) throw new ApiError('failed_precondition', 'The watchtower is not active on this node; start the daemon with --watchtower.active (and --watchtower.listen host:port)');
      const s = t.stats();
      return { pubkey: t.pubkey, listeners: t.listeners.map((a) => formatHostPort(a.host, a.port)), uris: t.uris(), active: true, num_sessions: s.sessions, num_updates: s.updates, num_justice_published: s.justice_published };
    },
    wtclient_add: async ({ uri }) => {
      try {
        await get().client.add(uri);
      } catch (e) {
        if (e instanceof TowerAddError) throw new ApiError('invalid_argument', e.message);
        throw e;
      }
      return {};
    },
    wtclient_towers: () => get().client.towersView(),
    wtclient_stats: () => get().client.stats(),
  };
}
