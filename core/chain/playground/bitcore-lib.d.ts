/* eslint-disable @typescript-eslint/no-unused-vars -- declaration-only classes are referenced through typeof */
/** The small part of bitcore-lib the playground uses: its script interpreter. */
declare module 'bitcore-lib' {
  class Script {
    constructor(from?: Buffer | string);
  }
  class Transaction {
    constructor(serialized?: string);
  }
  class Interpreter {
    errstr: string;
    verify(scriptSig: Script, scriptPubkey: Script, tx: Transaction, nin: number, flags: number, witness: Buffer[], satoshis: number): boolean;
  }
  const bitcore: {
    Script: typeof Script & {
      Interpreter: typeof Interpreter & {
        readonly SCRIPT_VERIFY_P2SH: number;
        readonly SCRIPT_VERIFY_STRICTENC: number;
        readonly SCRIPT_VERIFY_DERSIG: number;
        readonly SCRIPT_VERIFY_LOW_S: number;
        readonly SCRIPT_VERIFY_NULLDUMMY: number;
        readonly SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY: number;
        readonly SCRIPT_VERIFY_CHECKSEQUENCEVERIFY: number;
        readonly SCRIPT_VERIFY_WITNESS: number;
        readonly SCRIPT_VERIFY_MINIMALIF: number;
        readonly SCRIPT_VERIFY_NULLFAIL: number;
        readonly SCRIPT_VERIFY_WITNESS_PUBKEYTYPE: number;
        readonly SCRIPT_VERIFY_DISCOURAGE_UPGRADABLE_WITNESS_PROGRAM: number;
        readonly SCRIPT_VERIFY_CLEANSTACK: number;
      };
    };
    Transaction: typeof Transaction;
  };
  export default bitcore;
}
