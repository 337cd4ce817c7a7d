/**
 * The features this node announces in `init`. Only what the node supports, plus the features BOLT 9
 * marks ASSUMED (every node is expected to have them, and peers such as LDK require them).
 */
import { FeatureSet } from '../wire/index.ts';
import type { FeatureView } from '../api/contract.ts';

export function ourInitFeatures(): FeatureSet {
  return FeatureSet.of({
    option_data_loss_protect: 'required',
    var_onion_optin: 'required',
    option_static_remotekey: 'required',
    payment_secret: 'required',
    option_anchors: 'optional',
    option_channel_type: 'optional',
    // BOLT 1 peer storage: we keep our channel peers' backup blobs (core/node/backups.ts).
    option_provide_storage: 'optional',
  });
}

/** lncli-style feature map: `{ "<bit>": { name, is_required, is_known } }`. */
export function describeFeatures(f: FeatureSet): Record<string, FeatureView> {
  const out: Record<string, FeatureView> = {};
  for (const d of f.describe()) out[String(d.bit)] = { name: d.name, is_required: d.required, is_known: d.known };
  return out;
}
