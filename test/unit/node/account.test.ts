/**
 * The wallet's account: the recovery words again after the password (and never without it), a new
 * password, and a forgotten one replaced by the 24 words — another wallet's words refused before
 * anything is written. None of it reaches the node's log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode } from '../../helpers/node.ts';
import type { TestNode } from '../../helpers/node.ts';
import { createMnemonic } from '../../../core/wallet/mnemonic.ts';
import { ApiError } from '../../../core/api/contract.ts';

describe('account safety', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode('account');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('shows the words after the password, changes it, and lets the words replace a forgotten one', { timeout: 60_000 }, async () => {
    let api = t.node.handlers();
    await expect(api.revealseed({ password: 'not it' })).rejects.toThrow(/Wrong password/);
    const { mnemonic } = await api.revealseed({ password: 'test password' });
    expect(mnemonic).toHaveLength(24);
    const nodeId = t.node.nodeId;

    await expect(api.changepassword({ current_password: 'not it', new_password: 'Kx9-new-pass' })).rejects.toThrow(/Wrong password/);
    await api.changepassword({ current_password: 'test password', new_password: 'Kx9-new-pass' });
    await expect(api.revealseed({ password: 'test password' })).rejects.toBeInstanceOf(ApiError);
    expect((await api.revealseed({ password: 'Kx9-new-pass' })).mnemonic).toEqual(mnemonic);

    // A restart: the old password no longer unlocks; the words do, with a new password.
    await t.node.stop();
    const { CoulombNode } = await import('../../../core/node/node.ts');
    const node = new CoulombNode((t.node as unknown as { opts: ConstructorParameters<typeof CoulombNode>[0] }).opts);
    t.node = node;
    await node.start();
    await expect(node.unlock('test password')).rejects.toThrow(/Wrong password/);
    api = node.handlers();
    await expect(api.unlockwithwords({ words: createMnemonic(), new_password: 'Zq7-forgot-new' })).rejects.toThrow(/belong to another wallet/);
    expect(node.state).toBe('LOCKED');
    expect((await api.unlockwithwords({ words: mnemonic.join(' '), new_password: 'Zq7-forgot-new' })).identity_pubkey).toBe(nodeId);
    expect(node.state).toBe('READY');
    expect((await api.revealseed({ password: 'Zq7-forgot-new' })).mnemonic).toEqual(mnemonic);

    // The words and passwords never reach the log.
    const log = t.logs.join('\n');
    for (const secret of [mnemonic.slice(0, 4).join(' '), 'Kx9-new-pass', 'Zq7-forgot-new']) expect(log).not.toContain(secret);
  });
});
