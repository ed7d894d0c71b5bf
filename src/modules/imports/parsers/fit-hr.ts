/**
 * Merging `hr` messages (swim straps store heart rate apart from the records) into the
 * records' heart rate. The SDK's Decoder does this itself, but only after a clean read; for a
 * damaged file the parser calls the same SDK routine on what was decoded.
 */
import HrMesgUtils from '@garmin/fitsdk/src/utils-hr-mesg.js';

export function mergeHeartRates(hrMesgs: object[], recordMesgs: object[]): void {
  HrMesgUtils.mergeHeartRates(hrMesgs, recordMesgs);
}
