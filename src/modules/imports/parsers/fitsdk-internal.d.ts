/** The SDK's own hr-message merge, which its index does not export (used after a damaged read). */
declare module '@garmin/fitsdk/src/utils-hr-mesg.js' {
  const HrMesgUtils: {
    mergeHeartRates(hrMesgs: object[] | undefined, recordMesgs: object[] | undefined): void;
  };
  export default HrMesgUtils;
}
