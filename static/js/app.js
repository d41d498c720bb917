/* Progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Forms that need a confirmation: <form data-confirm="Message">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
