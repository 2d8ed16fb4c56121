// Ledgerbridge × Zoho CRM on Books pages: the pop-up of "Search in Zoho CRM" and "Associate Potential".
// A link with data-crm-pane opens its page in a <dialog> (htmx loads it); without JavaScript it is a page.
(function () {
  "use strict";
  if (window.lbCrm) return; // included by several fragments of one page
  window.lbCrm = true;

  function dialog() {
    var d = document.getElementById("lb-crm-dialog");
    if (!d) {
      d = document.createElement("dialog");
      d.id = "lb-crm-dialog";
      d.className = "crm-dialog";
      d.innerHTML = '<div class="crm-dialog-head"><button type="button" class="btn-icon" data-crm-close aria-label="Close">×</button></div>' +
        '<div id="lb-crm-pane" class="crm-dialog-body"></div>';
      document.body.appendChild(d);
    }
    return d;
  }

  function paneUrl(link) {
    var url = new URL(link.href, window.location.href);
    (link.dataset.crmParams || "").split(";").forEach(function (pair) {
      var parts = pair.split("=");
      if (parts.length !== 2) return;
      var source = document.querySelector(parts[1]);
      if (source && source.value) url.searchParams.set(parts[0], source.value);
    });
    return url.toString();
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-crm-close]")) {
      dialog().close();
      return;
    }
    var link = target.closest("a[data-crm-pane]");
    if (!link || !window.htmx) return;
    event.preventDefault();
    var menu = link.closest("details[open]");
    if (menu) menu.removeAttribute("open");
    var d = dialog();
    document.getElementById("lb-crm-pane").innerHTML = '<p class="muted">Loading…</p>';
    if (!d.open) d.showModal();
    window.htmx.ajax("GET", paneUrl(link), { target: "#lb-crm-pane", swap: "innerHTML" });
  });

  // The server's HX-Trigger events.
  document.addEventListener("lb-crm-close", function () {
    dialog().close();
  });
  document.addEventListener("lb-crm-contact-chosen", function (event) {
    var detail = event.detail || {};
    var select = document.getElementById(detail.select);
    if (select) {
      var value = String(detail.id);
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
      if (!option) {
        option = new Option(detail.name, value);
        select.add(option, select.options.length ? 1 : null);
      }
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    dialog().close();
  });
})();
