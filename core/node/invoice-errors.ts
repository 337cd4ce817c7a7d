/**
 * A pasted invoice that does not decode, as one sentence for people: what is wrong, never the text
 * itself (a long paste would fill the screen and the log), and what to do. BOLT 11's checksum catches
 * a character typed wrong or lost in copying, the most common case by far.
 */
import { ApiError } from '../api/contract.ts';
import { InvoiceError } from '../invoice/bolt11.ts';

const AGAIN = 'Copy it again from the payee, whole.';

export function invoiceApiError(e: unknown): ApiError {
  if (!(e instanceof InvoiceError)) return new ApiError('invalid_argument', `This is not a valid Lightning invoice. ${AGAIN}`);
  switch (e.code) {
    case 'invalid_checksum':
    case 'truncated':
    case 'too_short':
    case 'no_separator':
      return new ApiError('invalid_argument', `This is not a valid Lightning invoice (a character is wrong or missing). ${AGAIN}`);
    case 'mixed_case':
      return new ApiError('invalid_argument', `This is not a valid Lightning invoice: it mixes capital and small letters. ${AGAIN}`);
    case 'invalid_prefix':
    case 'unknown_network':
      return new ApiError('invalid_argument', 'This is not a Lightning invoice for any network Coulomb knows (an invoice starts with lnbc, lntb, lntbs or lnbcrt). Ask the payee for a Lightning invoice.');
    default: {
      // The decoder's own sentence: short, about a field, never the invoice's text.
      const why = e.message.length > 160 ? 'one of its fields is malformed' : e.message.replace(/^this is not a valid Lightning invoice:?\s*/i, '');
      return new ApiError('invalid_argument', `This is not a valid Lightning invoice: ${why}. Ask the payee for a new one.`);
    }
  }
}
