// The donation form: show what covering the fee adds for the chosen amount.
// The form works without this file; the server computes every amount it charges.
(function () {
  var form = document.querySelector('[data-testid="donation-form"]');
  var out = document.querySelector('[data-testid="fee-amount"]');
  if (!form || !out) return;
  var pct = parseFloat(form.dataset.feePercent) / 100, fixed = parseInt(form.dataset.feeFixed, 10);
  function update() {
    var chosen = form.querySelector('input[name="amount"]:checked');
    var raw = chosen && chosen.value !== "other" ? chosen.value
      : form.querySelector('input[name="other_amount"]').value;
    var cents = Math.round(parseFloat(raw) * 100);
    if (!isFinite(cents) || cents <= 0) { out.textContent = ""; return; }
    var fee = Math.ceil((cents + fixed) / (1 - pct)) - cents;
    out.textContent = "$" + (fee / 100).toFixed(2);
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
