// isms: a little progressive behaviour. Every page works without it.
(function () {
  'use strict';
  // Filters: a changed choice applies at once (the button stays for keyboard and no-script use).
  document.querySelectorAll('form[data-autosubmit] select').forEach(function (select) {
    select.addEventListener('change', function () { select.form.submit(); });
  });
  // Irreversible actions ask first.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });
  // A refused form: move the focus to the message so it is read first.
  var error = document.getElementById('error');
  if (error) error.focus();
})();
