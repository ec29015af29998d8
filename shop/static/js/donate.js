// The donation forms (/donate and the storefront's short form): what the donor types wins.
// Typing an other amount selects "Other amount"; choosing a preset clears the box; the
// fee-cover label and the submit button name the gift the donor will be charged.
// The forms work without this file: the server applies the same rule (a non-empty other
// amount is the gift) and states no fee for an amount the donor did not choose.
(function () {
  "use strict";

  function setUp(form) {
    var other = form.querySelector('input[name="other_amount"]');
    var otherRadio = form.querySelector('input[name="amount"][value="other"]');
    var presets = form.querySelectorAll('input[name="amount"]:not([value="other"])');
    var coverFee = form.querySelector('input[name="cover_fee"]');
    var feeOut = form.querySelector('[data-testid="fee-amount"]');
    var feeLine = form.querySelector("[data-fee-line]");
    var button = form.querySelector('button[type="submit"]');
    var decimals = parseInt(form.dataset.decimals || "2", 10);
    var pct = parseFloat(form.dataset.feePercent || "0") / 100;
    var fixed = parseInt(form.dataset.feeFixed || "0", 10);
    var money = new Intl.NumberFormat("en-US", {
      style: "currency", currency: (form.dataset.currency || "usd").toUpperCase(),
      minimumFractionDigits: decimals, maximumFractionDigits: decimals
    });
    var plainLabel = button ? button.textContent : "";

    // The amount in minor units, or null when what was typed is not plainly an amount
    // (the same shapes the server accepts: "36", "36.50", "1,000").
    function minorUnits(text) {
      var cleaned = (text || "").trim().replace(/^[^0-9\-]+/, "");
      var pattern = decimals ? /^(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$/ : /^(\d{1,3}(,\d{3})+|\d+)$/;
      if (!pattern.test(cleaned)) return null;
      var parts = cleaned.replace(/,/g, "").split(".");
      var fraction = (parts[1] || "").padEnd(decimals, "0");
      return parseInt(parts[0], 10) * Math.pow(10, decimals) + (fraction ? parseInt(fraction, 10) : 0);
    }

    function chosenAmount() {
      if (other && other.value.trim()) return minorUnits(other.value);
      var checked = form.querySelector('input[name="amount"]:checked');
      if (!checked || checked.value === "other") return null;
      return minorUnits(checked.value);
    }

    function feeFor(cents) {
      return Math.ceil((cents + fixed) / (1 - pct)) - cents;
    }

    function update() {
      var cents = chosenAmount();
      var fee = cents && coverFee && coverFee.checked ? feeFor(cents) : 0;
      if (feeOut) feeOut.textContent = cents ? money.format(feeFor(cents) / Math.pow(10, decimals)) : "";
      if (feeLine) feeLine.hidden = !cents;
      if (!button) return;
      if (!cents) { button.textContent = plainLabel; return; }
      var monthly = form.querySelector('input[name="frequency"][value="monthly"]:checked');
      button.textContent = "Give " + money.format((cents + fee) / Math.pow(10, decimals)) +
        (monthly ? " monthly" : "");
    }

    if (other && otherRadio) {
      other.addEventListener("input", function () {
        if (other.value.trim()) otherRadio.checked = true;
      });
    }
    Array.prototype.forEach.call(presets, function (preset) {
      preset.addEventListener("change", function () {
        if (preset.checked && other) other.value = "";
      });
    });
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-donation-form]"), setUp);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
