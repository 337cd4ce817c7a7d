/** Who this node is: its public key and the address others use to connect, as text and QR. */
import type { ReactNode } from 'react';
import { api } from '../api.ts';
import { useApi } from '../hooks.ts';
import { CopyButton, ErrorBox, Qr } from '../components.tsx';

export function NodeInfo(): ReactNode {
  const info = useApi(() => api('getinfo'), ['sync', 'peers', 'status']);
  const i = info.data;
  const uri = i?.uris[0];
  return (
    <div className="screen">
      <h1>Your node</h1>
      <ErrorBox error={info.error} />
      {i ? (
        <div className="cards">
          <section className="card">
            <h2>Connect to this node</h2>
            {uri ? <Qr text={uri} label="QR code of the node address" /> : <p className="muted">This node takes no incoming connections; it connects out to its peers.</p>}
            <dl>
              <dt>Public key</dt>
              <dd className="mono break" data-testid="node-pubkey">
                {i.identity_pubkey} <CopyButton text={i.identity_pubkey} what="public key" />
              </dd>
              {uri ? (
                <>
                  <dt>Address</dt>
                  <dd className="mono break" data-testid="node-uri">
                    {uri} <CopyButton text={uri} what="node address" />
                  </dd>
                </>
              ) : null}
            </dl>
          </section>
          <section className="card">
            <h2>Details</h2>
            <dl>
              <dt>Network</dt>
              <dd>{i.network}</dd>
              <dt>Chain</dt>
              <dd>{i.chain_backend}</dd>
              <dt>Block height</dt>
              <dd>{i.block_height.toLocaleString()}</dd>
              <dt>Peers</dt>
              <dd>{i.num_peers}</dd>
              <dt>Version</dt>
              <dd>{i.version}</dd>
              {i.chain_error ? (
                <>
                  <dt>Problem</dt>
                  <dd className="error-text">{i.chain_error}</dd>
                </>
              ) : null}
            </dl>
          </section>
        </div>
      ) : null}
    </div>
  );
}
