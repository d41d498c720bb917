/* The code and PIN form. Fills the code from the address's fragment (/saldo#c=<code>, which a
   browser never sends to the server) and, after a refused attempt, from what was typed before:
   the server answers a wrong code and a wrong PIN with the same empty form. The page works
   without this file: the person types the code. */
(function () {
  "use strict";

  var form = document.getElementById("balance-form");
  var code = document.getElementById("code");
  var pin = document.getElementById("pin");
  if (!form || !code || !pin) {
    return;
  }
  var KEY = "beneficiary.code";

  function store(action, value) {
    try {
      if (action === "get") {
        return window.sessionStorage.getItem(KEY);
      }
      if (action === "set") {
        window.sessionStorage.setItem(KEY, value);
      } else {
        window.sessionStorage.removeItem(KEY);
      }
    } catch (error) {
      // Storage may be off (private browsing): the person types the code again.
    }
    return null;
  }

  function codeFromFragment() {
    var hash = window.location.hash;
    if (!hash || hash.length < 2) {
      return null;
    }
    var value = new URLSearchParams(hash.slice(1)).get("c");
    // Out of the address bar and the history as well: the page stays plain /saldo.
    window.history.replaceState(null, "", window.location.pathname);
    return value;
  }

  var value = codeFromFragment();
  if (!value && form.getAttribute("data-retry") === "1") {
    value = store("get");
  }
  store("remove");
  if (value && !code.value) {
    code.value = value.trim().slice(0, 2000);
    pin.focus();
  }

  form.addEventListener("submit", function () {
    store("set", code.value);
  });
  form.setAttribute("data-ready", "");  // what browser tests wait for
})();
