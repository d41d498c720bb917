/* The receipt's print button (the browser's own Print works as well). */
(function () {
  "use strict";

  var button = document.getElementById("print-receipt");
  if (!button) {
    return;
  }
  button.classList.remove("d-none");
  button.addEventListener("click", function () {
    window.print();
  });
})();
