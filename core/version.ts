import pkg from '../package.json' with { type: 'json' };

/** The version users see in `getinfo` and `--version`. */
export const VERSION: string = pkg.version;
