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
