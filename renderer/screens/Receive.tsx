/** Receive on-chain: a fresh address as a QR code, ready to copy. */
import { useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { CopyButton, ErrorBox, Qr, Spinner, useAction } from '../components.tsx';

export function Receive(): ReactNode {
  const [address, setAddress] = useState<string>();
  const act = useAction();
  const fresh = (): void => void act.run(async () => setAddress((await api('newaddress')).address));
  useEffect(fresh, []);
  return (
    <div className="screen">
      <h1>Receive bitcoin</h1>
      <section className="card receive">
        {address ? (
          <>
            <Qr text={`bitcoin:${address}`} label="QR code of the address" />
            <div className="address-row">
              <code className="address" data-testid="receive-address">
                {address}
              </code>
              <CopyButton text={address} what="address" />
            </div>
            <p className="muted">Send bitcoin to this address from any wallet. It arrives here once a block confirms it. Each time you come here you get a new address, which keeps your payments private.</p>
            <button type="button" className="secondary" onClick={fresh} disabled={act.busy}>
              New address
            </button>
          </>
        ) : act.busy ? (
          <Spinner label="Making an address…" />
        ) : null}
        <ErrorBox error={act.error} />
      </section>
      <section className="card muted-card">
        <h2>Lightning</h2>
        <p className="muted">Lightning invoices come with channels: open one, then ask for a payment here.</p>
      </section>
    </div>
  );
}
