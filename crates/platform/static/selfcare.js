// Small progressive enhancements; every page works without this file.
"use strict";
document.documentElement.classList.add("js");

// Forms that hand a token to a back-office go on by themselves; without script the person
// presses "Continua".
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.submit();
  });
});

// "Aggiungi utente": show only the roles of the chosen product, and pre-fill the name of a
// person the platform already knows.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-user-form]");
  if (!form) return;
  var product = form.querySelector("#product_id");
  var groups = form.querySelectorAll(".role-group");
  function showRoles() {
    groups.forEach(function (g) {
      var on = g.getAttribute("data-product") === product.value;
      g.hidden = !on;
      if (!on) g.querySelectorAll("input").forEach(function (i) { i.checked = false; });
    });
  }
  product.addEventListener("change", showRoles);
  showRoles();
  var code = form.querySelector("#fiscal_code");
  var csrf = form.querySelector("input[name=csrf]").value;
  code.addEventListener("change", function () {
    var value = code.value.trim().toUpperCase();
    if (value.length !== 16) return;
    fetch("/v2/users/search", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ fiscalCode: value }),
      credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (p) {
      if (!p) return;
      var name = form.querySelector("#name"), surname = form.querySelector("#family_name");
      if (!name.value) name.value = p.name;
      if (!surname.value) surname.value = p.surname;
    }).catch(function () {});
  });
});

// "Copia": a button with data-copy="<element id>" copies that element's text. Without script
// the button stays hidden and the text can be selected by hand.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    button.hidden = false;
    var status = document.querySelector(".copy-status");
    function done() {
      var message = button.getAttribute("data-copied");
      if (status && message) status.textContent = message;
      button.classList.add("copied");
      setTimeout(function () {
        button.classList.remove("copied");
        if (status) status.textContent = "";
      }, 2500);
    }
    function fallback(text) {
      // Pages served without TLS have no clipboard API: select the text and copy it.
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        if (document.execCommand("copy")) done();
      } catch (e) { /* the text stays selected for a manual copy */ }
      return text;
    }
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(text); });
      } else {
        fallback(text);
      }
    });
  });
});

// A part of a page with data-refresh="<url>" shows work in progress: fetch that page again
// every data-refresh-ms and put in place each part marked data-live (the progress, and what
// depends on it: counters, banners), until the new copy no longer asks to be refreshed.
// Without script the person reloads the page.
document.addEventListener("DOMContentLoaded", function () {
  function watch(el) {
    var url = el.getAttribute("data-refresh");
    if (!url) return;
    var every = parseInt(el.getAttribute("data-refresh-ms"), 10) || 2000;
    setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { watch(el); return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var next = fresh.getElementById(el.id);
          if (!next) { watch(el); return; }
          document.querySelectorAll("[data-live][id]").forEach(function (part) {
            var copy = fresh.getElementById(part.id);
            if (copy) part.replaceWith(document.importNode(copy, true));
          });
          var now = document.getElementById(el.id);
          if (now) watch(now);
        })
        .catch(function () { watch(el); });
    }, every);
  }
  document.querySelectorAll("[data-refresh]").forEach(watch);
});

// A form sent back with errors: the focus goes to the summary of its errors, so that the
// person (and a screen reader) meets them first; its links lead to each field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach(function (link) {
    var name = link.getAttribute("href").slice(1);
    var field = document.getElementById(name) ||
      document.querySelector("[name='" + name.replace(/'/g, "") + "']");
    if (!field) return;
    // "Nome del servizio: Campo obbligatorio", from the field's own label.
    var group = field.closest("fieldset");
    var label = (field.id && document.querySelector("label[for='" + field.id + "']")) ||
      field.closest("label") || (group && group.querySelector("legend"));
    if (label && link.hasAttribute("data-field-error")) {
      var words = label.textContent.replace(/\*/g, "").trim();
      if (words) link.textContent = words + ": " + link.textContent;
    }
    link.addEventListener("click", function (event) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    });
  });
});

// A questionnaire whose questions depend on earlier answers (data-depends-on, -value): a
// question shows only while the answer it depends on is given. Without script the server shows
// the follow-up questions when the form is sent with "Mostra le domande successive".
document.addEventListener("DOMContentLoaded", function () {
  var dependents = document.querySelectorAll("[data-depends-on]");
  if (!dependents.length) return;
  document.querySelectorAll("[data-ra-follow-up]").forEach(function (p) { p.hidden = true; });
  function chosen(question) {
    var box = document.querySelector("[data-question='" + question + "']");
    if (!box || box.hidden) return [];
    return Array.from(box.querySelectorAll("input:checked")).map(function (i) { return i.value; });
  }
  function update() {
    // Questions depend on earlier ones only: one pass in page order settles them all.
    dependents.forEach(function (q) {
      var on = chosen(q.getAttribute("data-depends-on"));
      q.hidden = on.indexOf(q.getAttribute("data-depends-value")) < 0;
    });
  }
  dependents[0].closest("form").addEventListener("change", update);
  update();
});
