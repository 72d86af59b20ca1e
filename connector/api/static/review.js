// The review page's only script: a "select all" box, and a confirmation before anything
// is approved or deleted that says how many statements and what total, per currency
// (the sentence review.py's confirmation() writes). Totals are added up as integers of
// minor units (BigInt), never as floats. Without the script every box is still there.
(function () {
  var all = document.getElementById("select-all");
  var boxes = document.querySelectorAll('#drafts input[name="ids"]');
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; });
        all.checked = checked.length === boxes.length;
        all.indeterminate = checked.length > 0 && checked.length < boxes.length;
      });
    });
  }

  // 123456 minor units with 2 digits -> "1,234.56"
  function money(minor, digits) {
    var sign = minor < 0n ? "-" : "";
    var text = (minor < 0n ? -minor : minor).toString().padStart(digits + 1, "0");
    var whole = text.slice(0, text.length - digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + (digits ? "." + text.slice(text.length - digits) : "");
  }

  function sentence(verb, inputs) {
    var totals = {};
    inputs.forEach(function (input) {
      var c = input.dataset.currency;
      totals[c] = totals[c] || { minor: 0n, digits: Number(input.dataset.digits) };
      totals[c].minor += BigInt(input.dataset.minor);
    });
    var amounts = Object.keys(totals).sort().map(function (c) {
      return money(totals[c].minor, totals[c].digits) + " " + c;
    });
    var noun = inputs.length === 1 ? "statement" : "statements";
    return verb + " " + inputs.length + " " + noun + " totalling " + amounts.join(" + ") + "?";
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button) return;
    var text = button.dataset.confirm;
    if (!text && button.dataset.scope === "selected") {
      var chosen = Array.prototype.slice.call(
        event.target.querySelectorAll('input[name="ids"]:checked'));
      if (chosen.length === 0) return; // the server says to select some first
      text = sentence(button.dataset.verb, chosen);
    }
    if (text && !window.confirm(text)) event.preventDefault();
  });
})();
