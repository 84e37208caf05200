// Exam photo forms: send the photo as soon as it is taken, and say that it is being checked.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.capture-form").forEach(function (form) {
    var input = form.querySelector("input[type=file]");
    var note = form.querySelector(".checking");
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function () {
      if (note) { note.hidden = false; }
      if (button) { button.disabled = true; }
    });
    if (input) {
      input.addEventListener("change", function () {
        if (input.files && input.files.length) {
          if (note) { note.hidden = false; }
          if (button) { button.disabled = true; }
          form.submit();
        }
      });
    }
  });
});
