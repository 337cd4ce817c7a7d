/**
 * Lets an LDK node put a chosen `init` on the wire, so tests can see how another (unmodified)
 * LDK node judges it: which feature bits it insists on, and what it does with the `networks` TLV.
 *
 * LDK builds its `init` from its handlers: features are the OR of every handler's
 * `provided_init_features`, and `networks` comes from the channel handler's `get_chain_hashes`.
 * Wrapping the ChannelManager's handler and answering those two calls ourselves is therefore
 * enough; every other call is passed through unchanged. (The other handlers are ignoring ones
 * that add no features.)
 */
import * as ldk from 'lightningdevkit';

export interface InitOverride {
  /** The `features` field to send, in wire (big-endian) order. */
  features?: Uint8Array;
  /** Chain hashes for the `networks` TLV, in wire byte order; `null` leaves the TLV out. */
  networks?: Uint8Array[] | null;
}

export function channelHandlerWithInit(
  channelManager: ldk.ChannelManager,
  override: InitOverride,
): ldk.ChannelMessageHandler {
  const inner = channelManager.as_ChannelMessageHandler();
  const events = channelManager.as_MessageSendEventsProvider();
  const overrides: Partial<ldk.ChannelMessageHandlerInterface> = {};
  if (override.features) {
    const features = override.features;
    overrides.provided_init_features = () => {
      const read = ldk.InitFeatures.constructor_read(lengthPrefixed(features));
      if (!(read instanceof ldk.Result_InitFeaturesDecodeErrorZ_OK)) throw new Error('bad feature bytes');
      return read.res;
    };
  }
  if (override.networks !== undefined) {
    const networks = override.networks;
    overrides.get_chain_hashes = () =>
      networks === null
        ? ldk.Option_CVec_ThirtyTwoBytesZZ.constructor_none()
        : ldk.Option_CVec_ThirtyTwoBytesZZ.constructor_some(networks);
  }
  // Every method not overridden forwards to the ChannelManager's own handler.
  const forward = new Proxy(overrides, {
    get(target, name: string) {
      const own = target[name as keyof ldk.ChannelMessageHandlerInterface];
      if (own) return own;
      const method = (inner as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
      if (typeof method !== 'function') return undefined;
      return (...args: unknown[]) => method.apply(inner, args);
    },
  }) as ldk.ChannelMessageHandlerInterface;
  return ldk.ChannelMessageHandler.new_impl(forward, {
    get_and_clear_pending_msg_events: () => events.get_and_clear_pending_msg_events(),
  });
}

/** `InitFeatures.constructor_read` expects LDK's serialization: u16 length, then the bytes. */
function lengthPrefixed(wire: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + wire.length);
  out[0] = wire.length >> 8;
  out[1] = wire.length & 0xff;
  out.set(wire, 2);
  return out;
}
