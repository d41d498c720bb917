/* Where focus starts on each step of recording a service. A step whose first job is a field
   gives it `autofocus` (the server picks it: the first field in error, else the one to fill
   in); a step to read first (a refusal, the preview, the receipt) marks its main heading
   with data-focus-on-load and tabindex="-1", and this script moves focus there, so that
   keyboard and screen reader users start where the step starts, not at the top of the page.
   Without this script the page still works: focus simply starts at the top. */
(function () {
  "use strict";

  var heading = document.querySelector("[data-focus-on-load]");
  if (!heading || document.querySelector("[autofocus]")) {
    return;
  }
  var active = document.activeElement;
  if (active && active !== document.body && active !== document.documentElement) {
    return; // the person has already moved on
  }
  heading.focus();
})();
