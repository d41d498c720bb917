/* The record form's live preview: cost, the voucher's share, the family's co-payment and the
   balance left, as the operator types. Computed exactly as voucher/services/money.py does:
   integer cents, halves rounded up (away from zero), never floating point. The server
   computes the same figures again on the preview page; this is only a help while typing.
   Also: a confirmation form is sent once, however often its button is pressed. */
(function () {
  "use strict";

  // Integers of cents as Italian euro: 1.234,56 € (as services.money.format_euro).
  function formatEuro(cents) {
    var sign = cents < 0n ? "-" : "";
    var value = cents < 0n ? -cents : cents;
    var euros = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    var rest = (value % 100n).toString().padStart(2, "0");
    return sign + euros + "," + rest + " €";
  }

  // Halves away from zero of numerator / denominator (both BigInt, denominator > 0).
  function roundHalfUp(numerator, denominator) {
    var negative = numerator < 0n;
    var value = negative ? -numerator : numerator;
    var rounded = (2n * value + denominator) / (2n * denominator);
    return negative ? -rounded : rounded;
  }

  // An amount typed the Italian way, as web/forms.py parse_euro reads it; null if invalid.
  function parseEuro(text) {
    var value = text.replace(/[€\s\u00a0]/g, "");
    var match = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$/.exec(value);
    if (!match) {
      match = /^(\d+)\.(\d{1,2})$/.exec(value);
    }
    if (!match || match[1].replace(/\./g, "").length > 12) {
      return null;
    }
    var cents = (match[2] || "0").padEnd(2, "0");
    return BigInt(match[1].replace(/\./g, "")) * 100n + BigInt(cents);
  }

  // A quantity with at most two decimals, as hundredths; null if invalid.
  function parseHundredths(text) {
    var match = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(text.replace(/[\s\u00a0]/g, ""));
    if (!match) {
      return null;
    }
    return BigInt(match[1]) * 100n + BigInt((match[2] || "0").padEnd(2, "0"));
  }

  function livePreview(form) {
    var input = form.querySelector("[data-live]");
    var box = document.getElementById("live-preview");
    if (!input || !box || typeof BigInt === "undefined") {
      return;
    }
    var unitPrice = form.getAttribute("data-unit-price");
    var coverage = BigInt(form.getAttribute("data-coverage"));
    var balance = BigInt(form.getAttribute("data-balance"));
    var limitText = form.getAttribute("data-limit");
    var limit = limitText ? BigInt(limitText) : null;
    var warning = document.getElementById("live-warning");
    var out = {
      cost: document.getElementById("live-cost"),
      public: document.getElementById("live-public"),
      copay: document.getElementById("live-copay"),
      balance: document.getElementById("live-balance")
    };

    function costOf(text) {
      if (input.getAttribute("data-live") === "amount") {
        return parseEuro(text);
      }
      var hundredths = parseHundredths(text);
      return hundredths === null ? null : roundHalfUp(hundredths * BigInt(unitPrice), 100n);
    }

    function update() {
      var text = input.value.trim();
      if (!text) {
        box.classList.add("d-none");
        return;
      }
      box.classList.remove("d-none");
      var cost = costOf(text);
      var message = "";
      if (cost === null || cost <= 0n) {
        out.cost.textContent = out.public.textContent = "—";
        out.copay.textContent = out.balance.textContent = "—";
        message = form.getAttribute("data-msg-invalid");
      } else {
        var publicShare = roundHalfUp(cost * coverage, 100n);
        out.cost.textContent = formatEuro(cost);
        out.public.textContent = formatEuro(publicShare);
        out.copay.textContent = formatEuro(cost - publicShare);
        out.balance.textContent = formatEuro(balance - publicShare);
        if (limit !== null && cost > limit) {
          message = form.getAttribute("data-msg-over-limit");
        } else if (publicShare > balance) {
          message = form.getAttribute("data-msg-over-balance");
        }
      }
      warning.textContent = message;
      warning.classList.toggle("d-none", !message);
    }

    input.addEventListener("input", update);
    update();
    // The preview follows the typing from now on (what browser tests wait for).
    form.setAttribute("data-live-ready", "");
  }

  function sendOnce(form) {
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) {
        event.preventDefault();
        return;
      }
      sent = true;
      // After this event, so that the pressed button's own name and value are still sent.
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  }

  var record = document.getElementById("record-form");
  if (record) {
    livePreview(record);
  }
  var confirmForm = document.getElementById("confirm-form");
  if (confirmForm) {
    sendOnce(confirmForm);
  }
})();
