/**
 * The CLI side of the control channel: finds the daemon through `<datadir>/control.json` and calls
 * one method. Failures come back as an ApiError with a sentence a person can act on.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from './contract.ts';
import type { ApiResult, MethodInput, MethodName, MethodOutput } from './contract.ts';
import { CONTROL_FILE } from './control-server.ts';
import type { ControlInfo } from './control-server.ts';

export async function readControlInfo(datadir: string): Promise<ControlInfo> {
  const path = join(datadir, CONTROL_FILE);
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch {
    throw new ApiError('unavailable', `no Coulomb daemon found for data directory ${datadir} (${path} is missing). Start one with: coulomb daemon --datadir ${datadir}`);
  }
  try {
    const info = JSON.parse(raw) as ControlInfo;
    if (typeof info.url !== 'string' || typeof info.token !== 'string') throw new Error('bad shape');
    return info;
  } catch {
    throw new ApiError('unavailable', `${path} is not readable; restart the daemon to recreate it`);
  }
}

export async function callDaemon<M extends MethodName>(datadir: string, method: M, params: MethodInput<M>, timeoutMs = 120_000): Promise<MethodOutput<M>> {
  const info = await readControlInfo(datadir);
  let res: Response;
  try {
    res = await fetch(`${info.url}/v1/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const why = (e as Error).name === 'TimeoutError' ? 'it did not answer in time' : 'it is not running or not reachable';
    throw new ApiError('unavailable', `could not reach the Coulomb daemon at ${info.url}: ${why}. Start it with: coulomb daemon --datadir ${datadir}`);
  }
  let body: ApiResult<MethodOutput<M>>;
  try {
    body = (await res.json()) as ApiResult<MethodOutput<M>>;
  } catch {
    throw new ApiError('internal', `the daemon answered ${method} with something that is not JSON (HTTP ${res.status})`);
  }
  if (!body.ok) throw new ApiError(body.error.code, body.error.message);
  return body.result;
}
