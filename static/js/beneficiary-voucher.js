/* The voucher page: the code typed on the form is no longer needed in this tab. */
(function () {
  "use strict";

  try {
    window.sessionStorage.removeItem("beneficiary.code");
  } catch (error) {
    // Storage may be off: then nothing was kept.
  }
})();
